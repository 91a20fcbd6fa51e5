//! Reading what the app passes in: `Tandem.create` options and chat requests. Both
//! mix plain data with JS objects (callbacks, an `AbortSignal`), and unknown fields
//! are an error that names them, never silently ignored.

use js_sys::{Function, Object, Reflect};
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::error::js_error;
use crate::local::Hooks;
use crate::messages::{from_js, LoadSpec};

/// `Tandem.create` options.
pub struct CreateOptions {
    /// The local model.
    pub local: LoadSpec,
    /// Callbacks.
    pub hooks: Hooks,
    /// Aborts the load.
    pub signal: Option<AbortSignal>,
}

fn invalid(message: String) -> JsValue {
    js_error("invalid_request", &message)
}

/// Fail if `object` has a key outside `known`.
fn only(object: &JsValue, known: &[&str], what: &str) -> Result<(), JsValue> {
    let object: &Object = object
        .dyn_ref()
        .ok_or_else(|| invalid(format!("{what} must be an object")))?;
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(invalid(format!(
                "unknown field `{key}` in {what}; expected one of {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn get(object: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(object, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn function(object: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    get(object, key)
        .map(|f| {
            f.dyn_into()
                .map_err(|_| invalid(format!("{key} must be a function")))
        })
        .transpose()
}

fn signal(object: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    get(object, "signal")
        .map(|s| {
            s.dyn_into()
                .map_err(|_| invalid("signal must be an AbortSignal".into()))
        })
        .transpose()
}

impl CreateOptions {
    /// Read `{local: {modelUrl, sha256?, cache?}, onProgress?, onWarning?, signal?}`;
    /// a relative `modelUrl` is resolved against the page.
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        only(
            options,
            &["local", "onProgress", "onWarning", "signal"],
            "the options",
        )?;
        let local = get(options, "local")
            .ok_or_else(|| invalid("options.local.modelUrl is required".into()))?;
        only(&local, &["modelUrl", "sha256", "cache"], "options.local")?;
        let url = get(&local, "modelUrl")
            .and_then(|u| u.as_string())
            .ok_or_else(|| invalid("options.local.modelUrl must be a URL string".into()))?;
        let sha256 = get(&local, "sha256")
            .map(|s| {
                s.as_string()
                    .filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
                    .ok_or_else(|| invalid("options.local.sha256 must be 64 hex digits".into()))
            })
            .transpose()?;
        let cache = get(&local, "cache").is_none_or(|c| c.is_truthy());
        Ok(CreateOptions {
            local: LoadSpec {
                url: absolute(&url)?,
                sha256,
                cache,
            },
            hooks: Hooks {
                on_progress: function(options, "onProgress")?,
                on_warning: function(options, "onWarning")?,
            },
            signal: signal(options)?,
        })
    }
}

/// `url` resolved against the page (or worker) it is used from.
pub fn absolute(url: &str) -> Result<String, JsValue> {
    let base = Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| Reflect::get(&l, &"href".into()))
        .ok()
        .and_then(|h| h.as_string());
    let parsed = match base {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    };
    parsed
        .map(|u| u.href())
        .map_err(|_| invalid(format!("{url:?} is not a valid URL")))
}

/// Read a chat request: OpenAI's fields plus `signal`, an `AbortSignal`.
pub fn chat_request(
    request: JsValue,
) -> Result<(ChatCompletionRequest, Option<AbortSignal>), JsValue> {
    if !request.is_object() {
        return Err(invalid("the request must be an object".into()));
    }
    let signal = signal(&request)?;
    // Copy without `signal`, which is not data.
    let data = Object::assign(&Object::new(), request.unchecked_ref());
    let _ = Reflect::delete_property(&data, &"signal".into());
    let request: ChatCompletionRequest =
        from_js(data.into()).map_err(|e| invalid(format!("invalid request: {e}")))?;
    request
        .validate()
        .map_err(|e| js_error(e.code(), &e.to_string()))?;
    Ok((request, signal))
}
