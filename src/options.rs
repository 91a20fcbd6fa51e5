//! Reading what the app passes in: `Tandem.create` options and chat requests. Both
//! mix plain data with JS objects (callbacks, an `AbortSignal`), and unknown fields
//! are an error that names them, never silently ignored.

use js_sys::{Function, Object, Reflect};
use serde::Deserialize;
use tandem_core::protocol::{CompletionRequest, EmbeddingRequest};
use tandem_core::router::{Mode, Policy, Privacy, Task};
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::code::Code;
use crate::error::{core_error, js_error};
use crate::local::Hooks;
use crate::messages::{from_js, EncoderSpec, LoadSpec};
use crate::remote::{RemoteSpec, Token, FIRST_BYTE_MS, IDLE_MS};

/// `Tandem.create` options.
pub struct CreateOptions {
    /// The local model, if any.
    pub local: Option<LoadSpec>,
    /// The remote engine, if any.
    pub remote: Option<RemoteSpec>,
    /// Routing defaults for every request.
    pub routing: RouteFields,
    /// Callbacks.
    pub hooks: Hooks,
    /// Aborts the load.
    pub signal: Option<AbortSignal>,
}

/// The routing fields of `Tandem.create` options and of a request; a request's own
/// fields win over the defaults.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct RouteFields {
    /// `auto` (default), `local-only`, `remote-only`, `prefer-local` or `prefer-remote`.
    pub route: Option<Mode>,
    /// `standard` (default) or `strict`: requests with e-mail addresses, phone, card or
    /// IBAN numbers stay local.
    pub privacy: Option<Privacy>,
    /// Answer locally, then ask the server if the local answer looks unsure.
    pub escalate: Option<bool>,
    /// What the request is for: a hint to the router (per request; `Tandem.create`
    /// ignores it).
    pub task: Option<Task>,
}

/// The names of [`RouteFields`] as JS sees them.
const ROUTE_FIELDS: [&str; 4] = ["route", "privacy", "escalate", "task"];

/// How one request is routed.
#[derive(Debug, Clone, Default)]
pub struct RouteOptions {
    /// Mode and privacy.
    pub policy: Policy,
    /// Cascade: escalate doubtful local answers.
    pub escalate: bool,
    /// What the request is for.
    pub task: Option<Task>,
}

impl RouteFields {
    /// Read the routing fields of `object`, naming a bad value.
    pub fn from_js(object: &JsValue) -> Result<Self, JsValue> {
        let fields = Object::new();
        for key in ROUTE_FIELDS {
            if let Some(value) = get(object, key) {
                let _ = Reflect::set(&fields, &key.into(), &value);
            }
        }
        from_js(fields.into()).map_err(|e| invalid(format!("invalid routing option: {e}")))
    }

    /// These fields, missing ones taken from `defaults`.
    pub fn resolve(self, defaults: RouteFields) -> RouteOptions {
        RouteOptions {
            policy: Policy {
                mode: self.route.or(defaults.route).unwrap_or_default(),
                privacy: self.privacy.or(defaults.privacy).unwrap_or_default(),
            },
            escalate: self.escalate.or(defaults.escalate).unwrap_or(false),
            task: self.task.or(defaults.task),
        }
    }
}

fn invalid(message: String) -> JsValue {
    js_error(Code::InvalidRequest, &message)
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
    /// Read `{local?: {modelUrl?, sha256?, cache?, threads?, embeddings?}, remote?:
    /// {baseUrl, token?, getToken?, model?, embeddingModel?, firstByteTimeoutMs?,
    /// idleTimeoutMs?}, route?, privacy?, escalate?, onProgress?, onWarning?,
    /// signal?}`; relative URLs are resolved against the page.
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        let mut known = vec!["local", "remote", "onProgress", "onWarning", "signal"];
        known.extend(ROUTE_FIELDS);
        only(options, &known, "the options")?;
        let local = get(options, "local").map(|l| local(&l)).transpose()?;
        let remote = get(options, "remote").map(|r| remote(&r)).transpose()?;
        if local.is_none() && remote.is_none() {
            return Err(invalid(
                "give options.local (a model to run in the browser), options.remote (a server), or both"
                    .into(),
            ));
        }
        let mut routing = RouteFields::from_js(options)?;
        routing.task = None;
        Ok(CreateOptions {
            local,
            remote,
            routing,
            hooks: Hooks {
                on_progress: function(options, "onProgress")?,
                on_warning: function(options, "onWarning")?,
            },
            signal: signal(options)?,
        })
    }
}

/// Most threads `options.local.threads` may ask for.
const MAX_THREADS: u32 = 16;

fn local(local: &JsValue) -> Result<LoadSpec, JsValue> {
    only(
        local,
        &["modelUrl", "sha256", "cache", "threads", "embeddings"],
        "options.local",
    )?;
    let url = get(local, "modelUrl")
        .map(|_| model_url(local, "options.local"))
        .transpose()?;
    let sha256 = sha256_of(local, "options.local")?;
    let cache = get(local, "cache").is_none_or(|c| c.is_truthy());
    let threads = get(local, "threads")
        .map(|t| {
            t.as_f64()
                .filter(|t| t.fract() == 0.0 && (1.0..=MAX_THREADS as f64).contains(t))
                .map(|t| t as u32)
                .ok_or_else(|| {
                    invalid(format!(
                        "options.local.threads must be a whole number from 1 to {MAX_THREADS}"
                    ))
                })
        })
        .transpose()?
        .unwrap_or(1);
    let embeddings = get(local, "embeddings")
        .map(|e| -> Result<EncoderSpec, JsValue> {
            const WHERE: &str = "options.local.embeddings";
            only(&e, &["modelUrl", "sha256"], WHERE)?;
            Ok(EncoderSpec {
                url: absolute(&model_url(&e, WHERE)?)?,
                sha256: sha256_of(&e, WHERE)?,
            })
        })
        .transpose()?;
    if url.is_none() && embeddings.is_none() {
        return Err(invalid(
            "options.local needs modelUrl (a chat model), embeddings ({modelUrl}: a \
             sentence encoder), or both"
                .into(),
        ));
    }
    Ok(LoadSpec {
        url: url.as_deref().map(absolute).transpose()?,
        sha256,
        cache,
        threads,
        embeddings,
    })
}

/// `modelUrl` of the object at `at`.
fn model_url(object: &JsValue, at: &str) -> Result<String, JsValue> {
    get(object, "modelUrl")
        .and_then(|u| u.as_string())
        .ok_or_else(|| invalid(format!("{at}.modelUrl must be a URL string")))
}

/// `sha256` of the object at `at`, if given: 64 hex digits.
fn sha256_of(object: &JsValue, at: &str) -> Result<Option<String>, JsValue> {
    get(object, "sha256")
        .map(|s| {
            s.as_string()
                .filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
                .ok_or_else(|| invalid(format!("{at}.sha256 must be 64 hex digits")))
        })
        .transpose()
}

fn remote(remote: &JsValue) -> Result<RemoteSpec, JsValue> {
    only(
        remote,
        &[
            "baseUrl",
            "token",
            "getToken",
            "model",
            "embeddingModel",
            "firstByteTimeoutMs",
            "idleTimeoutMs",
        ],
        "options.remote",
    )?;
    let base_url = get(remote, "baseUrl")
        .and_then(|u| u.as_string())
        .ok_or_else(|| invalid("options.remote.baseUrl must be a URL string".into()))?;
    let text = |key: &str| -> Result<Option<String>, JsValue> {
        get(remote, key)
            .map(|v| {
                v.as_string().filter(|s| !s.is_empty()).ok_or_else(|| {
                    invalid(format!("options.remote.{key} must be a non-empty string"))
                })
            })
            .transpose()
    };
    let millis = |key: &str, default: f64| -> Result<f64, JsValue> {
        get(remote, key).map_or(Ok(default), |v| {
            v.as_f64()
                .filter(|ms| *ms > 0.0 && ms.is_finite())
                .ok_or_else(|| invalid(format!("options.remote.{key} must be a positive number")))
        })
    };
    let token = match (text("token")?, function(remote, "getToken")?) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "options.remote takes token or getToken, not both".into(),
            ))
        }
        (Some(token), None) => Token::Fixed(token),
        (None, Some(getter)) => Token::Getter(getter),
        (None, None) => Token::None,
    };
    Ok(RemoteSpec {
        base_url: absolute(&base_url)?,
        token,
        model: text("model")?,
        embedding_model: text("embeddingModel")?,
        first_byte_ms: millis("firstByteTimeoutMs", FIRST_BYTE_MS)?,
        idle_ms: millis("idleTimeoutMs", IDLE_MS)?,
    })
}

/// The options object of an `ai.tasks` call: `specific` keys (read by the caller with
/// [`option`]) plus `route`, `privacy` and `signal`.
pub fn task_options(
    options: &JsValue,
    specific: &[&str],
) -> Result<(RouteFields, Option<AbortSignal>), JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok((RouteFields::default(), None));
    }
    let mut known = specific.to_vec();
    known.extend(["route", "privacy", "signal"]);
    only(options, &known, "the task options")?;
    Ok((RouteFields::from_js(options)?, signal(options)?))
}

/// `options[key]` read as `T`, or `None` when absent; a bad value names the key.
pub fn option<T: serde::de::DeserializeOwned>(
    options: &JsValue,
    key: &str,
) -> Result<Option<T>, JsValue> {
    if !options.is_object() {
        return Ok(None);
    }
    get(options, key)
        .map(|v| from_js(v).map_err(|e| invalid(format!("invalid option `{key}`: {e}"))))
        .transpose()
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

/// A request as the app gives it: OpenAI's fields, tandem's routing fields and an
/// `AbortSignal`.
pub struct Call<T> {
    /// The OpenAI request.
    pub request: T,
    /// `route`, `privacy`, `escalate`, `task`.
    pub routing: RouteFields,
    /// Aborts it.
    pub signal: Option<AbortSignal>,
}

/// A chat (or completions) request as the app gives it.
pub type ChatCall = Call<ChatCompletionRequest>;

/// Read a chat request: OpenAI's fields plus `signal` and the routing fields.
pub fn chat_request(request: JsValue) -> Result<ChatCall, JsValue> {
    read_call(request, |data| {
        let request = from_js::<ChatCompletionRequest>(data)
            .map_err(|e| invalid(format!("invalid request: {e}")))?;
        request.validate().map_err(|e| core_error(&e))?;
        Ok(request)
    })
}

/// Read an embeddings request (`ai.embeddings.create`): OpenAI's fields and
/// tandem's `truncate`, plus `signal` and the routing fields.
pub fn embedding_request(request: JsValue) -> Result<Call<EmbeddingRequest>, JsValue> {
    read_call(request, |data| {
        let request = from_js::<EmbeddingRequest>(data)
            .map_err(|e| invalid(format!("invalid request: {e}")))?;
        request.validate().map_err(|e| core_error(&e))?;
        Ok(request)
    })
}

/// Read a completions request (`ai.completions.create`): the completions API's fields
/// plus `signal` and the routing fields, as the chat request with a raw prompt that
/// runs it.
pub fn completion_request(request: JsValue) -> Result<ChatCall, JsValue> {
    read_call(request, |data| {
        let request: CompletionRequest =
            from_js(data).map_err(|e| invalid(format!("invalid request: {e}")))?;
        let request = request.into_chat().map_err(|e| core_error(&e))?;
        request.validate().map_err(|e| core_error(&e))?;
        Ok(request)
    })
}

/// `signal` and the routing fields of `request`, and the rest read (and checked)
/// by `parse`.
fn read_call<T>(
    request: JsValue,
    parse: impl FnOnce(JsValue) -> Result<T, JsValue>,
) -> Result<Call<T>, JsValue> {
    if !request.is_object() {
        return Err(invalid("the request must be an object".into()));
    }
    let signal = signal(&request)?;
    let routing = RouteFields::from_js(&request)?;
    // Copy without `signal` and the routing fields, which are not OpenAI's.
    let data = Object::assign(&Object::new(), request.unchecked_ref());
    for key in ROUTE_FIELDS.iter().chain(&["signal"]) {
        let _ = Reflect::delete_property(&data, &(*key).into());
    }
    let request = parse(data.into())?;
    Ok(Call {
        request,
        routing,
        signal,
    })
}
