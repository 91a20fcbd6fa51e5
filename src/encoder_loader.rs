//! The sentence encoder's files into an [`Encoder`], in the worker: a GGUF file
//! through the model loader (cache, sha256, progress), or a sentence-transformers
//! folder: its `model.safetensors` through the loader, its small JSON files fetched.

use tandem_core::embed::{Encoder, EncoderFiles};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::code::Code;
use crate::error::{describe, Failure};
use crate::global::global;
use crate::loader::{self, FileSpec};
use crate::messages::{EncoderInfo, EncoderSpec, LoadedFile, Progress, Warning};

/// Load the encoder of `spec`; `started` is the load's start (ms).
pub async fn load(
    spec: &EncoderSpec,
    cache: bool,
    progress: &dyn Fn(Progress),
    warn: &dyn Fn(Warning),
    started: f64,
) -> Result<(Encoder, EncoderInfo), Failure> {
    let folder = spec.url.ends_with('/');
    let weights = match folder {
        true => format!("{}model.safetensors", spec.url),
        false => spec.url.clone(),
    };
    let file = FileSpec {
        url: &weights,
        sha256: spec.sha256.as_deref(),
        cache,
        file: LoadedFile::Encoder,
    };
    let loaded = loader::load::<Vec<u8>>(&file, progress, warn).await?;
    let bytes = loaded.sink;
    let encoder = match folder {
        false => Encoder::from_gguf(&bytes).map_err(|e| folder_hint(e, &spec.url))?,
        true => {
            let tokenizer = required(&spec.url, "tokenizer.json").await?;
            let config = required(&spec.url, "config.json").await?;
            let pooling = text(&spec.url, "1_Pooling/config.json").await?;
            let sentence = text(&spec.url, "sentence_bert_config.json").await?;
            Encoder::from_files(EncoderFiles {
                safetensors: &bytes,
                tokenizer_json: &tokenizer,
                config_json: &config,
                pooling_json: pooling.as_deref(),
                sentence_config_json: sentence.as_deref(),
            })?
        }
    };
    let info = EncoderInfo {
        model: name(&spec.url),
        dimensions: encoder.dimensions(),
        window: encoder.window(),
        from_cache: loaded.from_cache,
        bytes: loaded.bytes,
        load_ms: js_sys::Date::now() - started,
    };
    Ok((encoder, info))
}

/// A file that is not a GGUF, at a URL that names no `.gguf` file: most likely a
/// folder asked for without its closing `/`, so the error says how folders are named.
fn folder_hint(e: tandem_core::Error, url: &str) -> tandem_core::Error {
    match e {
        tandem_core::Error::ModelInvalid(m) if !url.ends_with(".gguf") => {
            tandem_core::Error::ModelInvalid(format!(
                "{m}: {url} was read as one GGUF file; a sentence-transformers folder's \
                 URL ends with \"/\""
            ))
        }
        e => e,
    }
}

/// The text of `folder` + `name`; `None` when the server has no such file (404).
async fn text(folder: &str, name: &str) -> Result<Option<String>, Failure> {
    let url = format!("{folder}{name}");
    let failed = |why: String| {
        Failure::new(
            Code::ModelDownloadFailed,
            format!("could not download the encoder's {name} from {url}: {why}"),
        )
    };
    let response = JsFuture::from(global().fetch(&url.as_str().into()))
        .await
        .map_err(|e| failed(describe(&e)))?;
    let response: Response = response.unchecked_into();
    match response.status() {
        404 => return Ok(None),
        _ if !response.ok() => return Err(failed(format!("HTTP {}", response.status()))),
        _ => {}
    }
    let text = response.text().map_err(|e| failed(describe(&e)))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| failed(describe(&e)))?;
    text.as_string()
        .map(Some)
        .ok_or_else(|| failed("not text".into()))
}

/// The text of a file the folder must have.
async fn required(folder: &str, name: &str) -> Result<String, Failure> {
    text(folder, name).await?.ok_or_else(|| {
        Failure::new(
            Code::ModelDownloadFailed,
            format!("the encoder folder {folder} has no {name} (HTTP 404)"),
        )
    })
}

/// The encoder's name: its folder's or its file's (without `.gguf`).
fn name(url: &str) -> String {
    let path = url.trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or(path);
    last.trim_end_matches(".gguf").to_string()
}
