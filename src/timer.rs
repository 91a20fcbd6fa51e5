//! `setTimeout` as a value: the callback runs once after a delay, unless the timer
//! is dropped first. Works on the page and in workers alike.

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending call of a function.
pub struct Timeout {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Call `f` after `ms` milliseconds.
    pub fn new(ms: f64, f: impl FnOnce() + 'static) -> Self {
        let callback = Closure::once(f);
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms);
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
