//! A streamed reply of the completions API (`ai.completions.create` with
//! `stream: true`): the reply's chat chunks read as `text_completion` objects.

use std::rc::Rc;

use js_sys::Promise;
use tandem_core::protocol::TextCompletion;
use tandem_core::ChatCompletionChunk;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::code::Code;
use crate::error::js_error;
use crate::messages::{from_js, to_js};
use crate::stream::{async_iterable, iter_result, Channel};

/// An async iterator of `TextCompletion` chunks; the last has no choices and carries
/// `usage` and `tandem`. Breaking out of the loop stops the generation.
#[wasm_bindgen]
pub struct TextStream {
    channel: Rc<Channel>,
}

#[wasm_bindgen]
impl TextStream {
    /// The next chunk: `{value: chunk, done: false}`, then `{done: true}`; rejects
    /// with the reply's error (e.g. `code: "aborted"`).
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<TextCompletion, undefined>>")]
    pub fn next(&self) -> Promise {
        let channel = self.channel.clone();
        future_to_promise(async move {
            while let Some(chunk) = channel.next_chunk().await? {
                let chunk: ChatCompletionChunk = from_js(chunk)
                    .map_err(|e| js_error(Code::RemoteError, &format!("unreadable chunk: {e}")))?;
                if let Some(text) = TextCompletion::from_chunk(chunk) {
                    return Ok(iter_result(to_js(&text), false));
                }
            }
            Ok(iter_result(JsValue::UNDEFINED, true))
        })
    }

    /// Stop early (what `break` in `for await` calls): the generation is aborted.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<TextCompletion, undefined>>"
    )]
    pub fn stop(&self) -> Promise {
        self.channel.stop();
        Promise::resolve(&iter_result(JsValue::UNDEFINED, true))
    }
}

impl TextStream {
    /// The stream over `channel`, usable with `for await`.
    pub fn iterable(channel: Rc<Channel>) -> JsValue {
        async_iterable(TextStream { channel }.into())
    }
}
