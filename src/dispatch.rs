//! Where a request runs, and what happens when that side fails: ask the router, run
//! on the chosen engine, fall back to the other before the first chunk reaches the
//! app, escalate a doubtful local answer (cascade), learn each side's speed, and say
//! all of it in `route` events and in the `tandem` object of the last chunk.

use std::cell::Cell;
use std::rc::Rc;

use tandem_core::protocol::ResponseFormat;
use tandem_core::router::{
    self, Decision, Environment, LocalEnv, Mode, Policy, Query, RemoteEnv, Target,
};
use tandem_core::tasks::{Task, TaskOutput};
use tandem_core::{ChatCompletionRequest, Error, TandemInfo};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortSignal, CustomEvent, CustomEventInit, EventTarget};

use crate::abort::{aborted, AbortHook};
use crate::chunks;
use crate::code::Code;
use crate::error::{code, core_error, describe, js_error};
use crate::global::global;
use crate::local::Local;
use crate::messages::{from_js, to_js, LabelScore};
use crate::options::{RouteFields, RouteOptions};
use crate::remote::Remote;
use crate::stream::{Channel, Item};

/// How long the remote engine counts as down after it was unreachable.
const REMOTE_RETRY_MS: f64 = 30_000.0;

/// The two engines and what tandem has learnt about them.
pub struct Engines {
    local: Option<Rc<Local>>,
    remote: Option<Rc<Remote>>,
    defaults: RouteFields,
    local_speed: Cell<LocalEnv>,
    remote_speed: Cell<RemoteEnv>,
    /// Until when (ms since the epoch) the remote engine counts as unreachable.
    remote_down_until: Cell<f64>,
    events: EventTarget,
}

/// A reply under way on one engine: the chunks read so far, and the rest.
struct Started {
    head: Vec<JsValue>,
    rest: Rc<Channel>,
    /// When the first chunk with content arrived.
    first_token_at: f64,
}

/// What the last chunk's `tandem` object will say.
struct Report {
    decision: Decision,
    fallback: Option<String>,
    escalated: Option<bool>,
    requested_at: f64,
    first_token_at: f64,
}

impl Report {
    /// `local`, `remote`, or `local→remote` when the server's answer replaced a
    /// local one.
    fn route(&self) -> String {
        match self.escalated {
            Some(true) => format!("{}→{}", Target::Local, Target::Remote),
            _ => self.decision.target.to_string(),
        }
    }
}

impl Engines {
    /// The engines of one `Tandem`, routed by `defaults` unless a request says otherwise.
    pub fn new(
        local: Option<Rc<Local>>,
        remote: Option<Rc<Remote>>,
        defaults: RouteFields,
    ) -> Result<Rc<Self>, JsValue> {
        Ok(Rc::new(Engines {
            local,
            remote,
            defaults,
            local_speed: Cell::new(LocalEnv::default()),
            remote_speed: Cell::new(RemoteEnv::default()),
            remote_down_until: Cell::new(0.0),
            events: EventTarget::new()?,
        }))
    }

    /// The local engine, if there is one.
    pub fn local(&self) -> Option<&Rc<Local>> {
        self.local.as_ref()
    }

    /// Where `route` events are dispatched.
    pub fn events(&self) -> &EventTarget {
        &self.events
    }

    /// The routing options of a request: its own fields over the defaults.
    pub fn options(&self, request: RouteFields) -> RouteOptions {
        request.resolve(self.defaults)
    }

    /// What the router knows. A server that failed lately counts as unreachable for
    /// a while, except to `remote-only` requests, which always try it.
    fn environment(&self, policy: &Policy) -> Environment {
        let local = self
            .local
            .as_ref()
            .and_then(|l| l.info())
            .map(|info| LocalEnv {
                ready: true,
                context_window: info.context_window,
                ..self.local_speed.get()
            });
        let online = global().navigator().on_line();
        let recovered =
            policy.mode == Mode::RemoteOnly || js_sys::Date::now() >= self.remote_down_until.get();
        let remote = self.remote.as_ref().map(|_| RemoteEnv {
            reachable: online && recovered,
            ..self.remote_speed.get()
        });
        Environment { local, remote }
    }

    /// The router's decision for `request`, without running it.
    pub async fn decide(
        &self,
        request: &ChatCompletionRequest,
        options: &RouteOptions,
    ) -> Result<Decision, JsValue> {
        let env = self.environment(&options.policy);
        let prompt_tokens = match (&self.local, &env.local) {
            (Some(local), Some(_)) => local
                .count_tokens(request.messages.clone())
                .await
                .ok()
                .and_then(|n| n.as_f64())
                .map(|n| n as usize),
            _ => None,
        };
        let query = Query {
            messages: &request.messages,
            prompt_tokens,
            max_tokens: request.token_limit(),
            structured: request
                .response_format
                .as_ref()
                .is_some_and(|f| !matches!(f, ResponseFormat::Text)),
            tools: request.tools.is_some(),
            task: options.task,
        };
        let error = match router::decide(&query, &env, &options.policy) {
            Ok(decision) => return Ok(decision),
            Err(error) => error,
        };
        // With no server to turn to, a prompt too long for the local model is the
        // local engine's own error, with its numbers.
        let error = match (&env.local, &self.remote, prompt_tokens) {
            (Some(local), None, Some(prompt_tokens)) => {
                let max_tokens = query.max_tokens.unwrap_or(1);
                if prompt_tokens + max_tokens > local.context_window {
                    Error::ContextLengthExceeded {
                        prompt_tokens,
                        max_tokens,
                        context_window: local.context_window,
                    }
                } else {
                    error
                }
            }
            _ => error,
        };
        Err(core_error(&error))
    }

    /// Answer `request` where the router says, with fallback and cascade; the chunks
    /// come in the returned channel. `signal` aborts it wherever it runs.
    pub async fn chat(
        self: &Rc<Self>,
        request: ChatCompletionRequest,
        options: RouteOptions,
        signal: Option<AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        let requested_at = js_sys::Date::now();
        let decision = self.decide(&request, &options).await?;
        self.announce(&decision, None);
        self.answer(decision, request, &options, signal.as_ref(), requested_at)
            .await
    }

    /// Run `request` as `decision` says: on its engine, falling back to the other,
    /// or through the cascade.
    async fn answer(
        self: &Rc<Self>,
        decision: Decision,
        request: ChatCompletionRequest,
        options: &RouteOptions,
        signal: Option<&AbortSignal>,
        requested_at: f64,
    ) -> Result<Rc<Channel>, JsValue> {
        if options.escalate && decision.target == Target::Local {
            return self
                .cascade(request, decision, &options.policy, signal, requested_at)
                .await;
        }
        let (decision, started, fallback) = self
            .start_or_fall_back(decision, &request, &request, &options.policy, signal)
            .await?;
        let report = Report {
            decision,
            fallback,
            escalated: None,
            requested_at,
            first_token_at: started.first_token_at,
        };
        Ok(self.relay(started, report, signal, false))
    }

    /// Start `first` on `decision`'s engine; if that fails before its first chunk and
    /// the router allows it, start `then` on the other engine. Gives the decision
    /// that holds and, after a fallback, why the first engine failed.
    async fn start_or_fall_back(
        &self,
        decision: Decision,
        first: &ChatCompletionRequest,
        then: &ChatCompletionRequest,
        policy: &Policy,
        signal: Option<&AbortSignal>,
    ) -> Result<(Decision, Started, Option<String>), JsValue> {
        match self.start(decision.target, first, signal).await {
            Ok(started) => Ok((decision, started, None)),
            Err(error) => {
                let (next, why) = self.fall_back(&decision, policy, error)?;
                let started = self.start(next.target, then, signal).await?;
                Ok((next, started, Some(why)))
            }
        }
    }

    /// The router's other side after `failed` failed with `error` (announced), with
    /// the reason; `error` itself when there is no other side.
    fn fall_back(
        &self,
        failed: &Decision,
        policy: &Policy,
        error: JsValue,
    ) -> Result<(Decision, String), JsValue> {
        let why = describe(&error);
        let next = fallback_eligible(&error)
            .then(|| router::fallback(failed, &self.environment(policy), policy, &why))
            .flatten()
            .ok_or(error)?;
        self.announce(&next, Some(&why));
        Ok((next, why))
    }

    /// Run a quick task on `text` where the router says (the task is its hint) and
    /// give `{labels | text | replies | data, tandem}`. Locally, `classify` scores
    /// the labels; everything else is the task's chat request.
    pub async fn task(
        self: &Rc<Self>,
        task: Task,
        text: &str,
        routing: RouteFields,
        signal: Option<AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let request = task.request(text).map_err(|e| core_error(&e))?;
        let mut options = self.options(routing);
        options.escalate = false;
        options.task = Some(hint(&task));
        let requested_at = js_sys::Date::now();
        let decision = self.decide(&request, &options).await?;
        self.announce(&decision, None);
        let signal = signal.as_ref();
        let channel = match (&task, &self.local, decision.target) {
            (Task::Classify { labels }, Some(local), Target::Local) => {
                match local.classify(text.into(), labels.clone(), signal).await {
                    Ok(labels) => {
                        let info = TandemInfo {
                            route: Target::Local.to_string(),
                            model: local.info().map(|i| i.model).unwrap_or_default(),
                            time_to_first_token_ms: js_sys::Date::now() - requested_at,
                            reason: Some(decision.reason),
                            scores: Some(decision.scores),
                            ..TandemInfo::default()
                        };
                        return Ok(to_js(&TaskResult {
                            output: Output::Labels(from_js(labels).unwrap_or_default()),
                            tandem: Some(info),
                        }));
                    }
                    Err(error) => {
                        let (next, why) = self.fall_back(&decision, &options.policy, error)?;
                        let started = self.start(next.target, &request, signal).await?;
                        let report = Report {
                            decision: next,
                            fallback: Some(why),
                            escalated: None,
                            requested_at,
                            first_token_at: started.first_token_at,
                        };
                        self.relay(started, report, signal, false)
                    }
                }
            }
            _ => {
                self.answer(decision, request, &options, signal, requested_at)
                    .await?
            }
        };
        let completion = chunks::completion(&channel).await?;
        let answer = completion
            .choices
            .first()
            .map(|c| c.message.content.as_str())
            .unwrap_or_default();
        let output = match task.parse(answer).map_err(|e| core_error(&e))? {
            TaskOutput::Labels(ranked) => Output::Labels(
                ranked
                    .into_iter()
                    .map(|(label, probability)| LabelScore { label, probability })
                    .collect(),
            ),
            TaskOutput::Text(text) => Output::Text(text),
            TaskOutput::Replies(replies) => Output::Replies(replies),
            TaskOutput::Json(data) => Output::Data(data),
        };
        Ok(to_js(&TaskResult {
            output,
            tandem: completion.tandem,
        }))
    }

    /// Run `request` on `target` until its first chunk with content (or its end).
    async fn start(
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
    fn remote_failed(&self, error: JsValue) -> JsValue {
        if code(&error) == Some(Code::RemoteUnavailable) {
            self.remote_down_until
                .set(js_sys::Date::now() + REMOTE_RETRY_MS);
        }
        error
    }

    /// Answer locally with log-probabilities, keep the answer back, and ask the
    /// server instead when the router's judge doubts it.
    async fn cascade(
        self: &Rc<Self>,
        request: ChatCompletionRequest,
        decision: Decision,
        policy: &Policy,
        signal: Option<&AbortSignal>,
        requested_at: f64,
    ) -> Result<Rc<Channel>, JsValue> {
        let strip = !request.logprobs.unwrap_or(false);
        let mut probed = request.clone();
        probed.logprobs = Some(true);
        let (decision, local, fallback) = self
            .start_or_fall_back(decision, &probed, &request, policy, signal)
            .await?;
        if fallback.is_some() {
            let report = Report {
                decision,
                fallback,
                escalated: None,
                requested_at,
                first_token_at: local.first_token_at,
            };
            return Ok(self.relay(local, report, signal, false));
        }
        let first_token_at = local.first_token_at;
        let mut answer = local.head;
        while let Some(chunk) = local.rest.next_chunk().await? {
            answer.push(chunk);
        }
        let steps: Vec<_> = answer.iter().flat_map(chunks::logprobs).collect();
        let verdict = router::judge(&steps);
        let keep_local = |reason: String| {
            let mut decision = decision.clone();
            decision.reason = reason;
            let done = Rc::new(Channel::default());
            done.push(Item::End);
            let started = Started {
                head: answer.clone(),
                rest: done,
                first_token_at,
            };
            let report = Report {
                decision,
                fallback: None,
                escalated: Some(false),
                requested_at,
                first_token_at,
            };
            self.relay(started, report, signal, strip)
        };
        if !verdict.escalate {
            return Ok(keep_local(format!(
                "{}; {}",
                decision.reason, verdict.reason
            )));
        }
        let Some(next) = router::fallback(
            &decision,
            &self.environment(policy),
            policy,
            &verdict.reason,
        ) else {
            return Ok(keep_local(format!(
                "{}; {}, but the server may not answer this one",
                decision.reason, verdict.reason
            )));
        };
        let next = Decision {
            reason: format!("escalated: {}", verdict.reason),
            ..next
        };
        self.announce(&next, None);
        match self.start(Target::Remote, &request, signal).await {
            Ok(started) => {
                let report = Report {
                    decision: next,
                    fallback: None,
                    escalated: Some(true),
                    requested_at,
                    first_token_at: started.first_token_at,
                };
                Ok(self.relay(started, report, signal, false))
            }
            Err(error) if code(&error) == Some(Code::Aborted) => Err(error),
            Err(error) => Ok(keep_local(format!(
                "{}; {}, but the server failed: {}",
                decision.reason,
                verdict.reason,
                describe(&error)
            ))),
        }
    }

    /// Send a `route` event: where the request goes and why (`fallback`: why the
    /// other side failed).
    fn announce(&self, decision: &Decision, fallback: Option<&str>) {
        let detail = to_js(&RouteEvent { decision, fallback });
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict("route", &init) {
            let _ = self.events.dispatch_event(&event);
        }
    }

    /// Pass the rest of `started` to a new channel, marking the last chunk with the
    /// report and learning the engine's speed from it; `strip_logprobs` drops the
    /// log-probabilities the cascade asked for on its own.
    fn relay(
        self: &Rc<Self>,
        started: Started,
        report: Report,
        signal: Option<&AbortSignal>,
        strip_logprobs: bool,
    ) -> Rc<Channel> {
        let out = Rc::new(Channel::default());
        let rest = started.rest.clone();
        out.on_return(move || rest.stop());
        let abort = signal.map(|signal| {
            let out = Rc::downgrade(&out);
            AbortHook::new(signal, move || {
                if let Some(out) = out.upgrade() {
                    out.fail(aborted());
                }
            })
        });
        let this = self.clone();
        let sink = out.clone();
        spawn_local(async move {
            let mut last = None;
            let mut head = started.head.into_iter();
            let end = loop {
                let next = match head.next() {
                    Some(chunk) => Ok(Some(chunk)),
                    None => started.rest.next_chunk().await,
                };
                match next {
                    Ok(Some(chunk)) => {
                        if strip_logprobs {
                            chunks::strip_logprobs(&chunk);
                        }
                        if chunks::usage(&chunk).is_some() {
                            this.mark(&chunk, &report);
                        }
                        last = Some(chunk.clone());
                        sink.push(Item::Chunk(chunk));
                    }
                    Ok(None) => break Item::End,
                    Err(e) => break Item::Error(e),
                }
            };
            if let (Item::End, Some(last)) = (&end, &last) {
                if chunks::tandem(last).is_none() || chunks::usage(last).is_none() {
                    let closing = chunks::closing(last);
                    this.mark(&closing, &report);
                    sink.push(Item::Chunk(closing));
                }
            }
            sink.push(end);
            drop(abort);
        });
        out
    }

    /// Put the `tandem` report on the last chunk and learn the engine's speed.
    fn mark(&self, chunk: &JsValue, report: &Report) {
        let now = js_sys::Date::now();
        let usage = chunks::usage(chunk).unwrap_or_default();
        let measured = chunks::tandem(chunk);
        let info = match (report.decision.target, measured) {
            (Target::Local, Some(local)) => {
                let mut speed = self.local_speed.get();
                speed.prefill_tokens_per_s =
                    learn(speed.prefill_tokens_per_s, local.prefill_tokens_per_s);
                speed.decode_tokens_per_s =
                    learn(speed.decode_tokens_per_s, local.decode_tokens_per_s);
                self.local_speed.set(speed);
                local
            }
            (_, measured) => {
                let ttft = report.first_token_at - report.requested_at;
                let decode_s = (now - report.first_token_at) / 1000.0;
                let decode = match usage.completion_tokens {
                    n if n > 1 && decode_s > 0.0 => (n - 1) as f64 / decode_s,
                    _ => 0.0,
                };
                if report.decision.target == Target::Remote {
                    let mut speed = self.remote_speed.get();
                    speed.time_to_first_token_ms = learn(speed.time_to_first_token_ms, ttft);
                    speed.decode_tokens_per_s = learn(speed.decode_tokens_per_s, decode);
                    self.remote_speed.set(speed);
                }
                TandemInfo {
                    route: String::new(),
                    model: chunks::model(chunk).unwrap_or_default(),
                    prefill_tokens_per_s: match ttft {
                        t if t > 0.0 => usage.prompt_tokens as f64 / (t / 1000.0),
                        _ => 0.0,
                    },
                    decode_tokens_per_s: decode,
                    time_to_first_token_ms: ttft,
                    ..measured.unwrap_or_default()
                }
            }
        };
        chunks::set_tandem(
            chunk,
            &TandemInfo {
                route: report.route(),
                reason: Some(report.decision.reason.clone()),
                scores: Some(report.decision.scores.clone()),
                fallback: report.fallback.clone(),
                escalated: report.escalated,
                ..info
            },
        );
    }
}

/// What an `ai.tasks` call gives.
#[derive(serde::Serialize)]
struct TaskResult {
    #[serde(flatten)]
    output: Output,
    tandem: Option<TandemInfo>,
}

/// The result of a task, named by its kind.
#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Output {
    Labels(Vec<LabelScore>),
    Text(String),
    Replies(Vec<String>),
    Data(serde_json::Value),
}

/// The payload of a `route` event.
#[derive(serde::Serialize)]
struct RouteEvent<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<&'a str>,
}

/// What a quick task tells the router.
fn hint(task: &Task) -> router::Task {
    match task {
        Task::Classify { .. } => router::Task::Classify,
        Task::Summarize { .. } => router::Task::Summarize,
        Task::Rewrite { .. } => router::Task::Rewrite,
        Task::SmartReplies { .. } => router::Task::Reply,
        Task::Extract { .. } => router::Task::Extract,
    }
}

/// A moving average that ignores missing measurements.
fn learn(old: f64, new: f64) -> f64 {
    if new > 0.0 && new.is_finite() {
        0.5 * old + 0.5 * new
    } else {
        old
    }
}

/// Whether the other engine may try after `error`: not after an abort or a request
/// that is wrong wherever it runs.
fn fallback_eligible(error: &JsValue) -> bool {
    !matches!(code(error), Some(Code::Aborted | Code::InvalidRequest))
}
