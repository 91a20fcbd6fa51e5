//! Getting the model's bytes: from the Cache API when a verified copy is there,
//! otherwise streamed from the network with byte progress; sha256-checked before use
//! and stored for next time. Works in a window and in a worker alike.

use js_sys::{Array, Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response, ResponseInit, StorageEstimate};

use crate::code::Code;
use crate::error::{describe, error_name, Failure};
use crate::global::global;
use crate::messages::{LoadSpec, Phase, Progress, Warning};

/// The Cache API bucket tandem keeps models in.
const CACHE_NAME: &str = "tandem-models";
/// Response headers stored with a cached model.
const SHA_HEADER: &str = "x-tandem-sha256";
const BYTES_HEADER: &str = "x-tandem-bytes";

/// The model file's bytes and where they came from.
pub struct ModelBytes {
    /// The GGUF file.
    pub bytes: Vec<u8>,
    /// Read from the cache rather than the network.
    pub from_cache: bool,
}

/// One model in the cache, as `Tandem.cached()` lists it.
#[derive(Debug, serde::Serialize)]
pub struct CachedModel {
    /// The URL it was downloaded from.
    pub url: String,
    /// Its sha256, computed at download.
    pub sha256: Option<String>,
    /// Its size.
    pub bytes: f64,
}

/// Get the bytes of `spec.url`, reporting progress and warnings as they happen.
pub async fn load(
    spec: &LoadSpec,
    progress: &dyn Fn(Progress),
    warn: &dyn Fn(Warning),
) -> Result<ModelBytes, Failure> {
    let want = spec.sha256.as_deref().map(str::to_ascii_lowercase);
    let cache = if spec.cache {
        match open_cache().await {
            Ok(cache) => Some(cache),
            Err(e) => {
                warn(Warning::new(
                    "cache_unavailable",
                    format!(
                        "the Cache API is unavailable ({}); loading from the network each time",
                        describe(&e)
                    ),
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(cache) = &cache {
        if let Some(bytes) = from_cache(cache, &spec.url, want.as_deref(), progress).await {
            return Ok(ModelBytes {
                bytes,
                from_cache: true,
            });
        }
    }
    let response = JsFuture::from(global().fetch(&spec.url.as_str().into()))
        .await
        .map_err(|e| download_failed(&spec.url, &describe(&e)))?;
    let response: Response = response.unchecked_into();
    if !response.ok() {
        let status = format!("HTTP {} {}", response.status(), response.status_text());
        return Err(download_failed(&spec.url, &status));
    }
    let size = declared_length(&response);
    if size > MAX_MODEL_BYTES {
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
        return Err(Failure::new(
            Code::ModelTooLarge,
            format!(
                "{} is {:.2} GB: a model file over {:.1} GB cannot load in the browser (a \
                 wasm32 worker has 4 GiB of memory, for the file and the weights built \
                 from it)",
                spec.url,
                size as f64 / 1e9,
                MAX_MODEL_BYTES as f64 / 1e9
            ),
        ));
    }
    let Body { bytes, sha256: sha } = read_body(&response, Phase::Download, progress)
        .await
        .map_err(|e| download_failed(&spec.url, &e))?;
    if let Some(want) = &want {
        if &sha != want {
            return Err(Failure::new(
                Code::IntegrityMismatch,
                format!("{} has sha256 {sha}, expected {want}", spec.url),
            ));
        }
    }
    if let Some(cache) = &cache {
        store(cache, &spec.url, &sha, &bytes, warn).await;
    }
    Ok(ModelBytes {
        bytes,
        from_cache: false,
    })
}

fn download_failed(url: &str, why: &str) -> Failure {
    Failure::new(
        Code::ModelDownloadFailed,
        format!("could not download the model from {url}: {why}"),
    )
}

async fn open_cache() -> Result<Cache, JsValue> {
    let cache = JsFuture::from(global().caches()?.open(CACHE_NAME)).await?;
    Ok(cache.unchecked_into())
}

/// The cached bytes of `url` if they are there and pass the integrity check; a copy
/// that fails it is evicted.
async fn from_cache(
    cache: &Cache,
    url: &str,
    want: Option<&str>,
    progress: &dyn Fn(Progress),
) -> Option<Vec<u8>> {
    let found = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let response: Response = found.dyn_into().ok()?;
    let stored = response.headers().get(SHA_HEADER).ok().flatten();
    if want.is_some() && stored.as_deref() != want {
        return None;
    }
    let Body { bytes, sha256: sha } = read_body(&response, Phase::Load, progress).await.ok()?;
    if want.is_some_and(|want| want != sha) || stored.is_some_and(|s| s != sha) {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
        return None;
    }
    Some(bytes)
}

/// Store the verified bytes; a full quota or any other cache failure is a warning,
/// not an error: the model still runs from memory.
async fn store(cache: &Cache, url: &str, sha: &str, bytes: &[u8], warn: &dyn Fn(Warning)) {
    let put = async {
        let init = ResponseInit::new();
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "application/octet-stream")?;
        headers.set(BYTES_HEADER, &bytes.len().to_string())?;
        headers.set(SHA_HEADER, sha)?;
        init.set_headers(&headers);
        // SAFETY: the view is copied by the Response constructor before any allocation.
        let view = unsafe { Uint8Array::view(bytes) };
        let response = Response::new_with_opt_js_u8_array_and_init(Some(&view), &init)?;
        JsFuture::from(cache.put_with_str(url, &response)).await
    };
    if let Err(e) = put.await {
        let (usage, quota) = storage_estimate().await;
        let quota_full = error_name(&e) == "QuotaExceededError";
        warn(Warning {
            code: if quota_full {
                "cache_quota_exceeded"
            } else {
                "cache_write_failed"
            }
            .into(),
            message: format!(
                "the model could not be cached ({}); it runs from memory and will be downloaded again next time",
                describe(&e)
            ),
            usage,
            quota,
            cause: None,
        });
    }
}

async fn storage_estimate() -> (Option<f64>, Option<f64>) {
    let Some(storage) = global().navigator().storage() else {
        return (None, None);
    };
    let Ok(promise) = storage.estimate() else {
        return (None, None);
    };
    match JsFuture::from(promise).await {
        Ok(estimate) => {
            let estimate: StorageEstimate = estimate.unchecked_into();
            (estimate.get_usage(), estimate.get_quota())
        }
        Err(_) => (None, None),
    }
}

/// The largest model file the browser build loads: the file and the weights built
/// from it must both fit a wasm32 worker's 4 GiB.
const MAX_MODEL_BYTES: u64 = 1_900_000_000;

/// The body's length from `Content-Length` (0 when not given).
fn declared_length(response: &Response) -> u64 {
    response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
}

/// A body read into memory, with its sha256 (lowercase hex).
struct Body {
    bytes: Vec<u8>,
    sha256: String,
}

/// Read a response body into memory, hashing it on the way (no second copy for the
/// hash) and reporting `phase` progress about every 1%.
async fn read_body(
    response: &Response,
    phase: Phase,
    progress: &dyn Fn(Progress),
) -> Result<Body, String> {
    let total = usize::try_from(declared_length(response)).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(total)
        .map_err(|_| format!("not enough memory for a {total}-byte model"))?;
    let report = |loaded: usize| {
        progress(Progress {
            phase,
            loaded: loaded as f64,
            total: total as f64,
        })
    };
    report(0);
    let body = response.body().ok_or("the response has no body")?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let step = (total / 100).max(1 << 20);
    let mut reported = 0;
    let mut hasher = Sha256::new();
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| describe(&e))?;
        if Reflect::get(&result, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&result, &"value".into())
            .map_err(|e| describe(&e))?
            .unchecked_into();
        let start = bytes.len();
        let len = chunk.length() as usize;
        bytes
            .try_reserve(len)
            .map_err(|_| "not enough memory for the model".to_string())?;
        bytes.resize(start + len, 0);
        chunk.copy_to(&mut bytes[start..]);
        hasher.update(&bytes[start..]);
        if bytes.len() - reported >= step {
            reported = bytes.len();
            report(reported);
        }
    }
    if total != 0 && bytes.len() != total {
        return Err(format!(
            "the body ended after {} of {total} bytes",
            bytes.len()
        ));
    }
    report(bytes.len());
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Body { bytes, sha256 })
}

/// The models in the cache.
pub async fn cached() -> Result<Vec<CachedModel>, JsValue> {
    let cache = open_cache().await?;
    let keys: Array = JsFuture::from(cache.keys()).await?.unchecked_into();
    let mut models = Vec::new();
    for request in keys.iter() {
        let request: web_sys::Request = request.unchecked_into();
        let url = request.url();
        let response: Response = JsFuture::from(cache.match_with_str(&url))
            .await?
            .unchecked_into();
        let header = |name| response.headers().get(name).ok().flatten();
        models.push(CachedModel {
            sha256: header(SHA_HEADER),
            bytes: header(BYTES_HEADER)
                .and_then(|b| b.parse().ok())
                .unwrap_or(0.0),
            url,
        });
    }
    Ok(models)
}

/// Remove `url` from the cache; whether it was there.
pub async fn evict(url: &str) -> Result<bool, JsValue> {
    let cache = open_cache().await?;
    Ok(JsFuture::from(cache.delete_with_str(url))
        .await?
        .is_truthy())
}
