//! Reading and marking chunks as the plain JS objects they travel as, so that what a
//! server sends (fields tandem does not know included) reaches the app unchanged.

use js_sys::{Array, Reflect};
use tandem_core::protocol::{CompletionBuilder, TokenLogprob};
use tandem_core::{ChatCompletion, ChatCompletionChunk, TandemInfo, Usage};
use wasm_bindgen::{JsCast, JsValue};

use crate::code::Code;
use crate::error::js_error;
use crate::messages::{from_js, to_js};
use crate::stream::Channel;

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or_default()
}

fn choices(chunk: &JsValue) -> Vec<JsValue> {
    get(chunk, "choices")
        .dyn_into::<Array>()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Whether the chunk only announces the assistant's role (no text, no end yet).
pub fn is_role_only(chunk: &JsValue) -> bool {
    let choices = choices(chunk);
    !choices.is_empty()
        && choices.iter().all(|choice| {
            let delta = get(choice, "delta");
            let content = get(&delta, "content").as_string().unwrap_or_default();
            content.is_empty()
                && get(&delta, "tool_calls").is_undefined()
                && !get(choice, "finish_reason").is_string()
        })
        && get(chunk, "usage").is_falsy()
}

/// The chunk's token counts, if it carries them.
pub fn usage(chunk: &JsValue) -> Option<Usage> {
    let usage = get(chunk, "usage");
    usage.is_object().then(|| from_js(usage).ok()).flatten()
}

/// The chunk's `tandem` object, if it carries one.
pub fn tandem(chunk: &JsValue) -> Option<TandemInfo> {
    let tandem = get(chunk, "tandem");
    tandem.is_object().then(|| from_js(tandem).ok()).flatten()
}

/// Put `info` on the chunk as its `tandem` object.
pub fn set_tandem(chunk: &JsValue, info: &TandemInfo) {
    // Setting a property of a plain object cannot fail.
    let _ = Reflect::set(chunk, &"tandem".into(), &to_js(info));
}

/// The per-token log-probabilities the chunk carries.
pub fn logprobs(chunk: &JsValue) -> Vec<TokenLogprob> {
    choices(chunk)
        .iter()
        .flat_map(|choice| {
            let content = get(&get(choice, "logprobs"), "content");
            from_js::<Vec<TokenLogprob>>(content).unwrap_or_default()
        })
        .collect()
}

/// Remove the log-probabilities the app did not ask for.
pub fn strip_logprobs(chunk: &JsValue) {
    for choice in choices(chunk) {
        let _ = Reflect::set(&choice, &"logprobs".into(), &JsValue::NULL);
    }
}

/// The model named by the chunk.
pub fn model(chunk: &JsValue) -> Option<String> {
    get(chunk, "model").as_string()
}

/// A last chunk with no choices, for a stream that ended without a usage chunk.
pub fn closing(after: &JsValue) -> JsValue {
    let chunk = js_sys::Object::new();
    for key in ["id", "object", "created", "model"] {
        let _ = Reflect::set(&chunk, &key.into(), &get(after, key));
    }
    let _ = Reflect::set(&chunk, &"choices".into(), &Array::new());
    chunk.into()
}

/// Read the whole reply from `channel` as one `ChatCompletion`.
pub async fn completion(channel: &Channel) -> Result<ChatCompletion, JsValue> {
    let mut completion = CompletionBuilder::default();
    while let Some(chunk) = channel.next_chunk().await? {
        let chunk: ChatCompletionChunk = from_js(chunk)
            .map_err(|e| js_error(Code::RemoteError, &format!("unreadable chunk: {e}")))?;
        completion.push(chunk);
    }
    completion
        .finish()
        .ok_or_else(|| js_error(Code::RemoteError, "the reply had no chunks"))
}
