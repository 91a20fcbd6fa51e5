//! Errors as real JS `Error` objects with a stable `code`, and [`Failure`], their
//! plain-data form that crosses from the worker to the page.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::code::Code;

/// A JS `Error` named `TandemError` with `message` and `code` (e.g. `model_invalid`).
pub fn js_error(code: Code, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("TandemError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &code.as_str().into());
    error.into()
}

/// The JS `Error` for an error of tandem-core, with its code and message.
pub fn core_error(error: &tandem_core::Error) -> JsValue {
    js_error(Code::from(error), &error.to_string())
}

/// An error as data: a stable code and a human message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Stable code.
    pub code: Code,
    /// Human message.
    pub message: String,
}

impl Failure {
    /// A failure with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// The JS `Error` for it.
    pub fn into_js(self) -> JsValue {
        js_error(self.code, &self.message)
    }
}

impl From<tandem_core::Error> for Failure {
    fn from(e: tandem_core::Error) -> Self {
        Failure::new(Code::from(&e), e.to_string())
    }
}

/// The message of a thrown JS value (an `Error`, a `DOMException` or anything else).
pub fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", e.name(), e.message());
    }
    Reflect::get(value, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// The `code` of a tandem error (`None` for other thrown values).
pub fn code(value: &JsValue) -> Option<Code> {
    Reflect::get(value, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .and_then(|c| Code::parse(&c))
}

/// The `name` of a thrown JS value (e.g. `QuotaExceededError`, `AbortError`).
pub fn error_name(value: &JsValue) -> String {
    Reflect::get(value, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}
