//! tandem-core errors as real JS `Error` objects with a stable `code`.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// A JS `Error` with `message` and `code` (e.g. `model_invalid`).
pub fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("TandemError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// Convert a tandem-core error.
pub fn from_core(e: tandem_core::Error) -> JsValue {
    js_error(e.code(), &e.to_string())
}
