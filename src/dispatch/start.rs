//! Starting a reply on one engine: run it until its first chunk with content, so a
//! failure before that can still go to the other side; a server found unreachable
//! counts as down for a while.

use std::rc::Rc;

use tandem_core::router::Target;
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::Engines;
use crate::chunks;
use crate::code::Code;
use crate::error::{code, js_error};
use crate::stream::Channel;

/// How long the remote engine counts as down after it was unreachable.
const REMOTE_RETRY_MS: f64 = 30_000.0;

/// A reply under way on one engine: the chunks read so far, and the rest.
pub struct Started {
    /// The chunks up to the first with content.
    pub head: Vec<JsValue>,
    /// The chunks still to come.
    pub rest: Rc<Channel>,
    /// When the first chunk with content arrived.
    pub first_token_at: f64,
}

impl Engines {
    /// Run `request` on `target` until its first chunk with content (or its end).
    pub(super) async fn start(
        &self,
        target: Target,
        request: &ChatCompletionRequest,
        signal: Option<&AbortSignal>,
    ) -> Result<Started, JsValue> {
        let missing = || js_error(Code::NoRoute, &format!("no {target} engine is configured"));
        let rest = match target {
            Target::Local => {
                let local = self.local.as_ref().ok_or_else(missing)?;
                local.chat(request.clone(), signal.cloned()).await?
            }
            Target::Remote => {
                let remote = self.remote.as_ref().ok_or_else(missing)?;
                match remote.chat(request, signal).await {
                    Ok(rest) => rest,
                    Err(e) => return Err(self.remote_failed(e)),
                }
            }
        };
        let mut head = Vec::new();
        loop {
            match rest.next_chunk().await {
                Ok(Some(chunk)) => {
                    let more = chunks::is_role_only(&chunk);
                    head.push(chunk);
                    if !more {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if target == Target::Remote => return Err(self.remote_failed(e)),
                Err(e) => return Err(e),
            }
        }
        Ok(Started {
            head,
            rest,
            first_token_at: js_sys::Date::now(),
        })
    }

    /// Note that the remote engine failed with `error` (and is down for a while if
    /// it was unreachable); returns the error.
    pub(super) fn remote_failed(&self, error: JsValue) -> JsValue {
        if code(&error) == Some(Code::RemoteUnavailable) {
            self.remote_down_until
                .set(js_sys::Date::now() + REMOTE_RETRY_MS);
        }
        error
    }
}
