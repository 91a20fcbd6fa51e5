//! The remote engine: any OpenAI-compatible `chat/completions` endpoint (tandem-server
//! first of all) over `fetch`, streamed as server-sent events and parsed as they
//! arrive, and its `embeddings` endpoint. Failures become tandem's codes: `remote_unavailable` (unreachable, 502-504,
//! timeouts, a cut stream), `rate_limited` (with `retryAfter` seconds), `unauthorized`
//! and `remote_error`.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array, JSON};
use tandem_core::protocol::{EmbeddingRequest, ErrorBody, SseDecoder, StreamOptions, DONE};
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStreamDefaultReader, Request, RequestInit,
    Response,
};

use crate::abort::{aborted, AbortHook};
use crate::code::Code;
use crate::error::{describe, js_error};
use crate::global::global;
use crate::stream::{Channel, Item};
use crate::timer::Timeout;

/// How the remote engine authenticates.
pub enum Token {
    /// No `Authorization` header.
    None,
    /// The same bearer token every time.
    Fixed(String),
    /// `getToken()`, called before each request (and again once after a 401): lets
    /// the app hand out short-lived tokens from its own backend.
    Getter(Function),
}

/// `remote` options of `Tandem.create`.
pub struct RemoteSpec {
    /// E.g. `https://api.example/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Credentials.
    pub token: Token,
    /// Model id sent when a chat request names none.
    pub model: Option<String>,
    /// Model id sent when an embeddings request names none (without it the server
    /// picks; tandem-server's is its native encoder).
    pub embedding_model: Option<String>,
    /// Most milliseconds until the response starts.
    pub first_byte_ms: f64,
    /// Most milliseconds between two pieces of a streamed response.
    pub idle_ms: f64,
}

/// Default of [`RemoteSpec::first_byte_ms`].
pub const FIRST_BYTE_MS: f64 = 30_000.0;
/// Default of [`RemoteSpec::idle_ms`].
pub const IDLE_MS: f64 = 30_000.0;

/// The remote engine.
pub struct Remote {
    spec: RemoteSpec,
}

/// A path under the base URL and the answer it gives.
#[derive(Clone, Copy)]
struct Endpoint {
    path: &'static str,
    accept: &'static str,
}

/// Chat completions, always streamed.
const CHAT: Endpoint = Endpoint {
    path: "chat/completions",
    accept: "text/event-stream",
};

/// Embeddings, one JSON answer.
const EMBEDDINGS: Endpoint = Endpoint {
    path: "embeddings",
    accept: "application/json",
};

/// Codes a server's error body may carry that mean the same here.
const PASSED_CODES: &[Code] = &[Code::InvalidRequest, Code::ContextLengthExceeded];

impl Remote {
    /// A client for `spec`; nothing is sent until [`Remote::chat`].
    pub fn new(spec: RemoteSpec) -> Rc<Self> {
        Rc::new(Remote { spec })
    }

    /// Send `request`, always streamed; resolves once the server accepted it, with
    /// the chunks to come in the channel. `signal` aborts it at any point.
    pub async fn chat(
        &self,
        request: &ChatCompletionRequest,
        signal: Option<&AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        let mut body = request.clone();
        body.stream = Some(true);
        body.stream_options = Some(StreamOptions {
            include_usage: true,
        });
        if body.model.is_none() {
            body.model = self.spec.model.clone();
        }
        let (response, controller, abort) = self.send(CHAT, &body, signal).await?;
        let channel = Rc::new(Channel::default());
        let reader: ReadableStreamDefaultReader = response
            .body()
            .ok_or_else(|| js_error(Code::RemoteError, "the server's response has no body"))?
            .get_reader()
            .unchecked_into();
        {
            let controller = controller.clone();
            channel.on_return(move || controller.abort());
        }
        spawn_local(pump(
            reader,
            channel.clone(),
            controller,
            abort,
            self.spec.idle_ms,
        ));
        Ok(channel)
    }

    /// The embeddings of `request` from the server's `/embeddings` endpoint: its JSON
    /// answer as it is (OpenAI's shape), which must arrive whole within the idle
    /// timeout once it starts. `signal` aborts it.
    pub async fn embed(
        &self,
        request: &EmbeddingRequest,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let mut body = request.clone();
        if body.model.is_none() {
            body.model = self.spec.embedding_model.clone();
        }
        let (response, controller, _abort) = self.send(EMBEDDINGS, &body, signal).await?;
        let _timer = {
            let controller = controller.clone();
            Timeout::new(self.spec.idle_ms, move || controller.abort())
        };
        let read = match response.text() {
            Ok(text) => JsFuture::from(text).await,
            Err(e) => Err(e),
        };
        let text = match read {
            Ok(text) => text.as_string().unwrap_or_default(),
            Err(_) if signal.is_some_and(AbortSignal::aborted) => return Err(aborted()),
            Err(e) => {
                return Err(js_error(
                    Code::RemoteUnavailable,
                    &format!(
                        "the server's embeddings did not arrive whole: {}",
                        describe(&e)
                    ),
                ))
            }
        };
        match JSON::parse(&text) {
            Ok(answer) if Reflect::get(&answer, &"data".into()).is_ok_and(|d| d.is_array()) => {
                Ok(answer)
            }
            _ => Err(js_error(
                Code::RemoteError,
                &format!("the server's embeddings are unreadable: {text:.200}"),
            )),
        }
    }

    /// POST `body` as JSON to `endpoint` under an abort controller that `signal`
    /// (while the returned hook lives) and the caller can fire: the 2xx response.
    async fn send(
        &self,
        endpoint: Endpoint,
        body: &impl serde::Serialize,
        signal: Option<&AbortSignal>,
    ) -> Result<(Response, AbortController, Option<AbortHook>), JsValue> {
        if signal.is_some_and(AbortSignal::aborted) {
            return Err(aborted());
        }
        let body = serde_json::to_string(body)
            .map_err(|e| js_error(Code::Internal, &format!("unserialisable request: {e}")))?;
        let controller = AbortController::new()?;
        let abort = {
            let controller = controller.clone();
            signal.map(|signal| AbortHook::new(signal, move || controller.abort()))
        };
        let response = self.post(endpoint, &body, &controller, signal).await?;
        Ok((response, controller, abort))
    }

    /// POST `body` to `endpoint` until the server answers 2xx, retrying once with a
    /// fresh token after a 401 when a `getToken` is set.
    async fn post(
        &self,
        endpoint: Endpoint,
        body: &str,
        controller: &AbortController,
        signal: Option<&AbortSignal>,
    ) -> Result<Response, JsValue> {
        let url = format!(
            "{}/{}",
            self.spec.base_url.trim_end_matches('/'),
            endpoint.path
        );
        let retries = usize::from(matches!(self.spec.token, Token::Getter(_)));
        for attempt in 0..=retries {
            let request = (self.request(&url, endpoint.accept, body, &controller.signal())).await?;
            let timed_out = Rc::new(Cell::new(false));
            let timer = {
                let (timed_out, controller) = (timed_out.clone(), controller.clone());
                Timeout::new(self.spec.first_byte_ms, move || {
                    timed_out.set(true);
                    controller.abort();
                })
            };
            let response = JsFuture::from(global().fetch(&request.into())).await;
            drop(timer);
            let response: Response = match response {
                Ok(response) => response.unchecked_into(),
                Err(_) if signal.is_some_and(AbortSignal::aborted) => return Err(aborted()),
                Err(_) if timed_out.get() => {
                    return Err(js_error(
                        Code::RemoteUnavailable,
                        &format!(
                            "{url} did not answer within {} s",
                            self.spec.first_byte_ms / 1000.0
                        ),
                    ))
                }
                Err(e) => {
                    return Err(js_error(
                        Code::RemoteUnavailable,
                        &format!("cannot reach {url}: {}", describe(&e)),
                    ))
                }
            };
            if response.ok() {
                return Ok(response);
            }
            if response.status() == 401 && attempt < retries {
                continue;
            }
            return Err(status_error(&url, &response).await);
        }
        unreachable!("the last attempt returns")
    }

    async fn request(
        &self,
        url: &str,
        accept: &str,
        body: &str,
        signal: &AbortSignal,
    ) -> Result<Request, JsValue> {
        let headers = Headers::new()?;
        headers.set("content-type", "application/json")?;
        headers.set("accept", accept)?;
        if let Some(token) = self.token().await? {
            headers.set("authorization", &format!("Bearer {token}"))?;
        }
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&body.into());
        init.set_signal(Some(signal));
        Request::new_with_str_and_init(url, &init)
    }

    async fn token(&self) -> Result<Option<String>, JsValue> {
        let getter = match &self.spec.token {
            Token::None => return Ok(None),
            Token::Fixed(token) => return Ok(Some(token.clone())),
            Token::Getter(getter) => getter,
        };
        let unauthorized = |why: String| js_error(Code::Unauthorized, &format!("getToken() {why}"));
        let value = getter
            .call0(&JsValue::NULL)
            .map_err(|e| unauthorized(format!("threw: {}", describe(&e))))?;
        let value = JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(|e| unauthorized(format!("rejected: {}", describe(&e))))?;
        value
            .as_string()
            .filter(|t| !t.is_empty())
            .map(Some)
            .ok_or_else(|| unauthorized("must give a non-empty string".into()))
    }
}

/// The error for a non-2xx answer, from its status and OpenAI-style error body.
async fn status_error(url: &str, response: &Response) -> JsValue {
    let status = response.status();
    let text = match response.text() {
        Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    }
    .unwrap_or_default();
    let body = serde_json::from_str::<ErrorBody>(&text).ok();
    let code = match status {
        401 | 403 => Code::Unauthorized,
        429 => Code::RateLimited,
        502..=504 => Code::RemoteUnavailable,
        _ => body
            .as_ref()
            .and_then(|b| b.error.code.as_deref())
            .and_then(Code::parse)
            .filter(|code| PASSED_CODES.contains(code))
            .unwrap_or(Code::RemoteError),
    };
    let detail = match &body {
        Some(body) => body.error.message.clone(),
        None => text.chars().take(200).collect(),
    };
    let error = js_error(code, &format!("{url} answered {status}: {detail}"));
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse::<f64>().ok());
    if let Some(seconds) = retry_after {
        let _ = Reflect::set(&error, &"retryAfter".into(), &seconds.into());
    }
    error
}

/// Read the response body into `channel` until `[DONE]`, an error or an abort.
async fn pump(
    reader: ReadableStreamDefaultReader,
    channel: Rc<Channel>,
    controller: AbortController,
    abort: Option<AbortHook>,
    idle_ms: f64,
) {
    let signal = controller.signal();
    let mut decoder = SseDecoder::default();
    let mut finished = false;
    let end = loop {
        let timed_out = Rc::new(Cell::new(false));
        let _timer = {
            let (timed_out, controller) = (timed_out.clone(), controller.clone());
            Timeout::new(idle_ms, move || {
                timed_out.set(true);
                controller.abort();
            })
        };
        let result = match JsFuture::from(reader.read()).await {
            Ok(result) => result,
            Err(_) if timed_out.get() => {
                break Item::Error(js_error(
                    Code::RemoteUnavailable,
                    &format!("the server sent nothing for {} s", idle_ms / 1000.0),
                ))
            }
            Err(_) if signal.aborted() => break Item::Error(aborted()),
            Err(e) => {
                break Item::Error(js_error(
                    Code::RemoteUnavailable,
                    &format!("the connection broke: {}", describe(&e)),
                ))
            }
        };
        let events = if Reflect::get(&result, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            let tail = decoder.finish();
            if let Some(item) = tail.and_then(|data| event(&data, &channel, &mut finished)) {
                break item;
            }
            break if finished {
                Item::End
            } else {
                Item::Error(js_error(
                    Code::RemoteUnavailable,
                    "the server's stream ended before the reply did",
                ))
            };
        } else {
            let bytes: Uint8Array = Reflect::get(&result, &"value".into())
                .unwrap_or_default()
                .unchecked_into();
            decoder.push(&bytes.to_vec())
        };
        if let Some(item) = events
            .iter()
            .find_map(|data| event(data, &channel, &mut finished))
        {
            break item;
        }
    };
    if !matches!(end, Item::End) {
        controller.abort();
    }
    channel.push(end);
    drop(abort);
}

/// Handle one event's `data`: a chunk goes to `channel`; `[DONE]` or an error ends
/// the stream (the returned item).
fn event(data: &str, channel: &Channel, finished: &mut bool) -> Option<Item> {
    if data == DONE {
        return Some(Item::End);
    }
    let chunk = match JSON::parse(data) {
        Ok(chunk) if chunk.is_object() => chunk,
        _ => {
            return Some(Item::Error(js_error(
                Code::RemoteError,
                &format!("the server sent an unreadable chunk: {data:.200}"),
            )))
        }
    };
    if let Ok(error) = Reflect::get(&chunk, &"error".into()) {
        if error.is_object() {
            let message = Reflect::get(&error, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| data.to_string());
            return Some(Item::Error(js_error(
                Code::RemoteError,
                &format!("the server failed mid-reply: {message}"),
            )));
        }
    }
    *finished |= has_finish_reason(&chunk);
    channel.push(Item::Chunk(chunk));
    None
}

fn has_finish_reason(chunk: &JsValue) -> bool {
    Reflect::get(chunk, &"choices".into())
        .ok()
        .and_then(|c| c.dyn_into::<Array>().ok())
        .is_some_and(|choices| {
            choices.iter().any(|choice| {
                Reflect::get(&choice, &"finish_reason".into()).is_ok_and(|r| r.is_string())
            })
        })
}
