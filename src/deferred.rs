//! A promise made from Rust and settled later, from wherever the answer arrives.

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;

/// A promise's `resolve` and `reject`.
pub struct Deferred {
    resolve: Function,
    reject: Function,
}

impl Deferred {
    /// A pending promise and the means to settle it.
    pub fn new() -> (Promise, Deferred) {
        let mut deferred = None;
        let promise =
            Promise::new(&mut |resolve, reject| deferred = Some(Deferred { resolve, reject }));
        (
            promise,
            deferred.expect("the Promise executor runs at once"),
        )
    }

    /// Fulfil the promise with `value`.
    pub fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, value);
    }

    /// Reject the promise with `error`.
    pub fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::NULL, error);
    }
}
