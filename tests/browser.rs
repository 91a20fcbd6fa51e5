//! `LocalModel` in headless Chromium, checked against llama.cpp's greedy fixtures.
//!
//! The model and fixtures come over HTTP from `scripts/serve.py`, whose origin is
//! baked in at compile time from `TANDEM_TEST_ORIGIN`; run through
//! `scripts/browser-test.sh`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Reflect, Uint8Array, JSON};
use serde_json::Value;
use tandem::LocalModel;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Response;

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = match option_env!("TANDEM_TEST_ORIGIN") {
    Some(origin) => origin,
    None => "http://127.0.0.1:8787",
};

/// The fixture line to check. Its greedy path has no near-tie (natively, every step's
/// pick leads by a clear margin), so wasm's last-bit differences in f32 maths (its own
/// libm, SIMD summation order) cannot change a token.
const PROMPT: &str = "Explain what a CPU does in one sentence.";
const TOKENS: usize = 16;

/// GET `path` from the test server, failing the test on any error status.
async fn fetch(path: &str) -> Response {
    let url = format!("{ORIGIN}{path}");
    let window = web_sys::window().expect("a browser window");
    let response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .unwrap_or_else(|e| panic!("fetch {url}: {e:?} (is scripts/serve.py running?)"));
    let response: Response = response.dyn_into().unwrap();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    response
}

async fn load_model() -> LocalModel {
    let response = fetch("/models/SmolLM2-135M-Instruct.Q4_1.gguf").await;
    let buffer = JsFuture::from(response.array_buffer().unwrap())
        .await
        .unwrap();
    LocalModel::new(&Uint8Array::new(&buffer).to_vec()).expect("model loads")
}

/// Let the browser run its event loop (a `setTimeout(0)` turn), as a page would
/// between tokens; a long synchronous loop stalls the test driver.
async fn yield_to_browser() {
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback(&resolve)
            .unwrap();
    });
    JsFuture::from(timer).await.unwrap();
}

/// The greedy.jsonl line whose user message is `PROMPT`.
async fn fixture() -> Value {
    let text = JsFuture::from(fetch("/fixtures/greedy.jsonl").await.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["messages"][0]["content"] == PROMPT)
        .expect("fixture line")
}

/// A JSON value as a plain JS value.
fn js(value: &Value) -> JsValue {
    JSON::parse(&value.to_string()).unwrap()
}

fn ids(value: &Value) -> Vec<u32> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The `code` of a thrown JS `Error`.
fn error_code(error: &JsValue) -> String {
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "not an Error: {error:?}"
    );
    Reflect::get(error, &"code".into())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn greedy_tokens_match_llama_cpp() {
    let model = load_model().await;
    let line = fixture().await;
    let messages = js(&line["messages"]);

    let prompt = model.prompt_ids(messages.clone()).unwrap();
    assert_eq!(prompt, ids(&line["prompt_ids"]));

    let options = js(&serde_json::json!({ "max_tokens": TOKENS, "temperature": 0 }));
    let mut reply = model.stream(messages, options).unwrap();
    let mut tokens = Vec::new();
    loop {
        yield_to_browser().await;
        let step = reply.next().unwrap();
        if Reflect::get(&step, &"done".into()).unwrap().is_truthy() {
            break;
        }
        let token = Reflect::get(&step, &"token".into()).unwrap();
        tokens.push(token.as_f64().unwrap() as u32);
    }
    assert_eq!(tokens, ids(&line["greedy_ids"])[..TOKENS]);
}

#[wasm_bindgen_test]
fn bad_bytes_throw_model_invalid() {
    let error = LocalModel::new(b"not a gguf file").err().expect("an error");
    assert_eq!(error_code(&error), "model_invalid");
}

#[wasm_bindgen_test]
async fn unknown_option_throws_invalid_request() {
    let model = load_model().await;
    let messages = js(&serde_json::json!([{ "role": "user", "content": PROMPT }]));
    let options = js(&serde_json::json!({ "max_tokens": 4, "temprature": 0 }));
    let error = model.stream(messages, options).err().expect("an error");
    assert_eq!(error_code(&error), "invalid_request");
}
