//! The global scope, a `Window` on the page or a `WorkerGlobalScope` in a worker:
//! the few members both have and tandem uses.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{CacheStorage, StorageManager};

#[wasm_bindgen]
extern "C" {
    /// `Window` or `WorkerGlobalScope`.
    pub type Global;
    #[wasm_bindgen(method, getter, catch)]
    pub fn caches(this: &Global) -> Result<CacheStorage, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn navigator(this: &Global) -> Navigator;
    /// `fetch(input)` with a URL string or a `Request`.
    #[wasm_bindgen(method)]
    pub fn fetch(this: &Global, input: &JsValue) -> Promise;

    /// `Navigator` or `WorkerNavigator`.
    pub type Navigator;
    #[wasm_bindgen(method, getter)]
    pub fn storage(this: &Navigator) -> Option<StorageManager>;
    #[wasm_bindgen(method, getter, js_name = onLine)]
    pub fn on_line(this: &Navigator) -> bool;

    /// `performance`.
    pub type Performance;
    #[wasm_bindgen(method, getter)]
    fn performance(this: &Global) -> Performance;
    #[wasm_bindgen(method)]
    fn now(this: &Performance) -> f64;
}

/// The global scope tandem runs in.
pub fn global() -> Global {
    js_sys::global().unchecked_into()
}

/// `performance.now()`: milliseconds, finer than `Date.now()`.
pub fn now() -> f64 {
    global().performance().now()
}
