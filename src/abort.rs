//! Listening to an `AbortSignal` for as long as a piece of work runs.

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::code::Code;
use crate::error::js_error;

/// Calls a function when the signal aborts; stops listening when dropped.
pub struct AbortHook {
    signal: AbortSignal,
    listener: Closure<dyn FnMut()>,
}

impl AbortHook {
    /// Call `on_abort` once if `signal` aborts while the hook lives.
    pub fn new(signal: &AbortSignal, on_abort: impl FnOnce() + 'static) -> Self {
        let listener = Closure::once(on_abort);
        // Adding a listener to a live signal cannot fail.
        let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        AbortHook {
            signal: signal.clone(),
            listener,
        }
    }
}

impl Drop for AbortHook {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.listener.as_ref().unchecked_ref());
    }
}

/// The error of aborted work.
pub fn aborted() -> JsValue {
    js_error(Code::Aborted, "the request was aborted")
}
