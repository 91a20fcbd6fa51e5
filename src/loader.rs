//! Getting the model's bytes to where they are built into a model, a chunk at a
//! time: from the Cache API when a verified copy is there, otherwise from the
//! network with byte progress, stored in the cache as they come. The bytes are
//! hashed on the way and never held whole: a download by sha256 (checked before the
//! model is used or the copy is kept) and xxh3, a cached copy by the xxh3 its record
//! keeps (digest.rs says why that is as sure). Works in a window and in a worker
//! alike.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response, StorageEstimate};

use crate::code::Code;
use crate::digest::{Digests, Hashers};
use crate::error::{describe, error_name, Failure};
use crate::global::{global, now};
use crate::messages::{LoadPhases, LoadedFile, Phase, Progress, Warning};
use crate::model_cache::{CacheWriter, ModelCache, Record};

/// Where the file's bytes go as they arrive: a fresh one for each attempt (the
/// cache's copy, then the network's).
pub trait Sink: Default {
    /// The file's next bytes.
    fn push(&mut self, bytes: &[u8]) -> Result<(), Failure>;
}

impl Sink for tandem_core::EngineLoader {
    fn push(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        tandem_core::EngineLoader::push(self, bytes).map_err(Failure::from)
    }
}

/// The file in memory, for what is built from a whole file (a sentence encoder).
impl Sink for Vec<u8> {
    fn push(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.try_reserve(bytes.len())
            .map_err(|_| Failure::new(Code::OutOfMemory, "no memory for the file being loaded"))?;
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// Which file to load: its URL, its expected sha256 (hex) if known, and whether to
/// keep it in the Cache API.
pub struct FileSpec<'a> {
    /// Absolute URL.
    pub url: &'a str,
    /// Expected sha256 (hex), checked before use when given.
    pub sha256: Option<&'a str>,
    /// Keep the file in the Cache API.
    pub cache: bool,
    /// Which model it is (progress says so).
    pub file: LoadedFile,
}

/// The file, given whole to a sink.
pub struct Loaded<S> {
    /// The sink, after the file's last byte.
    pub sink: S,
    /// Read from the cache rather than the network.
    pub from_cache: bool,
    /// The file's size.
    pub bytes: f64,
    /// Time waiting for bytes, hashing them and giving them to the sink (its
    /// `compile_ms` is 0: the worker was running already).
    pub phases: LoadPhases,
}

/// Give the file of `spec.url` to a sink, reporting progress and warnings as they
/// happen.
pub async fn load<S: Sink>(
    spec: &FileSpec<'_>,
    progress: &dyn Fn(Progress),
    warn: &dyn Fn(Warning),
) -> Result<Loaded<S>, Failure> {
    let want = spec.sha256.map(str::to_ascii_lowercase);
    let cache = match spec.cache {
        true => ModelCache::open()
            .await
            .map_err(|e| {
                warn(Warning::new(
                    "cache_unavailable",
                    format!(
                        "the Cache API is unavailable ({}); loading from the network each time",
                        describe(&e)
                    ),
                ))
            })
            .ok(),
        false => None,
    };
    if let Some(cache) = &cache {
        let key = (spec.url, spec.file);
        if let Some(loaded) = from_cache(cache, key, want.as_deref(), progress).await {
            return Ok(loaded);
        }
    }
    let response = JsFuture::from(global().fetch(&spec.url.into()))
        .await
        .map_err(|e| download_failed(spec.url, &describe(&e)))?;
    let response: Response = response.unchecked_into();
    if !response.ok() {
        let status = format!("HTTP {} {}", response.status(), response.status_text());
        return Err(download_failed(spec.url, &status));
    }
    check_size(&response, spec.url)?;
    let writer = match &cache {
        Some(cache) => match cache.writer(spec.url) {
            Ok(writer) => Some(writer),
            Err(e) => {
                warn(not_cached(&e).await);
                None
            }
        },
        None => None,
    };
    let progress = progress_of(spec.file, Phase::Download, progress);
    let hashers = Hashers::new(true);
    let body = match read_body::<S>(&response, &progress, writer.as_ref(), hashers).await {
        Ok(body) => body,
        Err(e) => {
            if let Some(writer) = writer {
                writer.abort();
            }
            return Err(match e {
                ReadError::Stream(why) => download_failed(spec.url, &why),
                ReadError::Sink(failure) => failure,
            });
        }
    };
    let sha256 = body.digests.sha256.unwrap_or_default();
    if let Some(want) = want.filter(|want| *want != sha256) {
        if let Some(writer) = writer {
            writer.abort();
        }
        return Err(Failure::new(
            Code::IntegrityMismatch,
            format!("{} has sha256 {sha256}, expected {want}", spec.url),
        ));
    }
    if let Some(writer) = writer {
        let record = Record {
            sha256,
            xxh3: Some(body.digests.xxh3),
            bytes: body.len as f64,
        };
        if let Err(e) = writer.commit(&record).await {
            warn(not_cached(&e).await);
        }
    }
    Ok(Loaded {
        sink: body.sink,
        from_cache: false,
        bytes: body.len as f64,
        phases: body.phases,
    })
}

/// `progress` of `file` in `phase` as `(loaded, total)`.
fn progress_of(
    file: LoadedFile,
    phase: Phase,
    progress: &dyn Fn(Progress),
) -> impl Fn(f64, f64) + '_ {
    move |loaded, total| {
        progress(Progress {
            file,
            phase,
            loaded,
            total,
        })
    }
}

fn download_failed(url: &str, why: &str) -> Failure {
    Failure::new(
        Code::ModelDownloadFailed,
        format!("could not download the model from {url}: {why}"),
    )
}

/// The cached file of `url`, given to a sink, if it is there, is the one wanted and
/// still has the digest it had when stored (its xxh3, or an older record's sha256); a
/// copy that fails the check is evicted.
async fn from_cache<S: Sink>(
    cache: &ModelCache,
    (url, file): (&str, LoadedFile),
    want: Option<&str>,
    progress: &dyn Fn(Progress),
) -> Option<Loaded<S>> {
    let (response, record) = cache.lookup(url).await?;
    if want.is_some_and(|want| want != record.sha256) {
        return None;
    }
    let progress = progress_of(file, Phase::Load, progress);
    let hashers = Hashers::new(record.xxh3.is_none());
    let intact = |d: &Digests| match &record.xxh3 {
        Some(xxh3) => d.xxh3 == *xxh3,
        None => d.sha256.as_ref() == Some(&record.sha256),
    };
    match read_body::<S>(&response, &progress, None, hashers).await {
        Ok(body) if intact(&body.digests) => Some(Loaded {
            sink: body.sink,
            from_cache: true,
            bytes: body.len as f64,
            phases: body.phases,
        }),
        _ => {
            let _ = cache.delete(url).await;
            None
        }
    }
}

/// Storing the file failed: a full quota or any other cache failure is a warning,
/// not an error, as the model still runs.
async fn not_cached(e: &JsValue) -> Warning {
    let (usage, quota) = storage_estimate().await;
    let quota_full = error_name(e) == "QuotaExceededError";
    Warning {
        code: match quota_full {
            true => "cache_quota_exceeded",
            false => "cache_write_failed",
        }
        .into(),
        message: format!(
            "the model could not be cached ({}); it runs from memory and will be downloaded again next time",
            describe(e)
        ),
        usage,
        quota,
        cause: None,
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

/// The largest model file the browser build loads: its weights, and what running
/// it takes, must fit a wasm32 worker's 4 GiB.
const MAX_MODEL_BYTES: u64 = 1_900_000_000;

/// `model_too_large` (and the body cancelled) for a declared size over
/// [`MAX_MODEL_BYTES`].
fn check_size(response: &Response, url: &str) -> Result<(), Failure> {
    let size = declared_length(response);
    if size <= MAX_MODEL_BYTES {
        return Ok(());
    }
    if let Some(body) = response.body() {
        let _ = body.cancel();
    }
    Err(Failure::new(
        Code::ModelTooLarge,
        format!(
            "{url} is {:.2} GB: a model file over {:.1} GB cannot load in the browser (a \
             wasm32 worker has 4 GiB of memory, for the weights and what running them \
             takes)",
            size as f64 / 1e9,
            MAX_MODEL_BYTES as f64 / 1e9
        ),
    ))
}

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

/// A body given whole to a sink, with its digests and length.
struct Body<S> {
    sink: S,
    digests: Digests,
    len: usize,
    phases: LoadPhases,
}

/// Why a body was not read whole.
enum ReadError {
    /// The stream failed or ended early.
    Stream(String),
    /// The sink refused the bytes.
    Sink(Failure),
}

/// Read a response body a chunk at a time into a new sink (each chunk copied into
/// wasm memory once, and to the cache's `writer` when there is one), hashing it on
/// the way with `hashers` and reporting `progress(loaded, total)` about every 1%.
async fn read_body<S: Sink>(
    response: &Response,
    progress: &dyn Fn(f64, f64),
    writer: Option<&CacheWriter>,
    mut hashers: Hashers,
) -> Result<Body<S>, ReadError> {
    let total = usize::try_from(declared_length(response)).unwrap_or(usize::MAX);
    let report = |loaded: usize| progress(loaded as f64, total as f64);
    report(0);
    let body = response
        .body()
        .ok_or_else(|| ReadError::Stream("the response has no body".into()))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let step = (total / 100).max(1 << 20);
    let (mut len, mut reported) = (0, 0);
    let mut sink = S::default();
    let mut chunk_bytes = Vec::new();
    let mut phases = LoadPhases::default();
    loop {
        let waited = now();
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| ReadError::Stream(describe(&e)))?;
        phases.fetch_ms += now() - waited;
        if Reflect::get(&result, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&result, &"value".into())
            .map_err(|e| ReadError::Stream(describe(&e)))?
            .unchecked_into();
        if let Some(writer) = writer {
            writer.write(&chunk).await;
        }
        chunk_bytes.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut chunk_bytes);
        let hashing = now();
        hashers.update(&chunk_bytes);
        let building = now();
        phases.verify_ms += building - hashing;
        if let Err(failure) = sink.push(&chunk_bytes) {
            let _ = reader.cancel();
            return Err(ReadError::Sink(failure));
        }
        phases.build_ms += now() - building;
        len += chunk_bytes.len();
        if len - reported >= step {
            reported = len;
            report(reported);
        }
    }
    if total != 0 && len != total {
        return Err(ReadError::Stream(format!(
            "the body ended after {len} of {total} bytes"
        )));
    }
    report(len);
    Ok(Body {
        sink,
        digests: hashers.finish(),
        len,
        phases,
    })
}
