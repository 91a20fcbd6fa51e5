//! The page side of the local engine: starts the worker, sends it requests, routes
//! its messages back to the right reply, and restarts it after a crash.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Function;
use tandem_core::protocol::{EmbeddingInput, EmbeddingRequest};
use tandem_core::{ChatCompletionRequest, ChatMessage};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ErrorEvent, Event, MessageEvent, Worker};

use crate::abort::{aborted, AbortHook};
use crate::code::Code;
use crate::deferred::Deferred;
use crate::error::js_error;
use crate::global::now;
use crate::messages::{
    from_js, to_js, EncoderInfo, FromWorker, LoadSpec, LocalInfo, ModelInfo, ToWorker,
};
use crate::stream::{Channel, Item};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = spawnWorker, catch)]
    fn spawn_worker(
        threads: u32,
        page_build: &str,
        page_module: JsValue,
    ) -> Result<Worker, JsValue>;
}

/// This build's script, as js/worker.js names it: a worker that picks the same build
/// runs on the page's compiled module.
const BUILD: &str = match (cfg!(feature = "threads"), cfg!(feature = "relaxed-simd")) {
    (false, false) => "./tandem.js",
    (false, true) => "./tandem_relaxed.js",
    (true, false) => "./tandem_threads.js",
    (true, true) => "./tandem_threads_relaxed.js",
};

/// Callbacks the app gave to `Tandem.create`.
#[derive(Default)]
pub struct Hooks {
    /// `onProgress({phase, loaded, total})`.
    pub on_progress: Option<Function>,
    /// `onWarning({code, message, usage, quota})`.
    pub on_warning: Option<Function>,
}

/// A request waiting for the worker.
enum Pending {
    Reply {
        channel: Rc<Channel>,
        _abort: Option<AbortHook>,
    },
    /// A request answered by one message (a token count, labels).
    Answer(Deferred),
}

/// The running worker and its message handlers.
struct Running {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

/// The local engine as the page sees it.
pub struct Local {
    spec: LoadSpec,
    hooks: Hooks,
    running: RefCell<Option<Running>>,
    loading: RefCell<Option<Deferred>>,
    pending: RefCell<HashMap<u32, Pending>>,
    next_id: Cell<u32>,
    info: RefCell<Option<LocalInfo>>,
    unloaded: Cell<bool>,
    /// When the worker was started (`performance.now()`).
    worker_started: Cell<f64>,
    /// How long it took to be ready: its script fetched, the module compiled (ms).
    worker_ready_ms: Cell<f64>,
}

impl Local {
    /// A handle for the model `spec`; nothing starts until [`Local::start`].
    pub fn new(spec: LoadSpec, hooks: Hooks) -> Rc<Self> {
        Rc::new(Local {
            spec,
            hooks,
            running: RefCell::new(None),
            loading: RefCell::new(None),
            pending: RefCell::new(HashMap::new()),
            next_id: Cell::new(1),
            info: RefCell::new(None),
            unloaded: Cell::new(false),
            worker_started: Cell::new(0.0),
            worker_ready_ms: Cell::new(0.0),
        })
    }

    /// What the worker said about the loaded chat model (`None` for a worker that
    /// only embeds).
    pub fn info(&self) -> Option<ModelInfo> {
        self.info.borrow().as_ref().and_then(|i| i.model.clone())
    }

    /// What the worker said about the loaded sentence encoder.
    pub fn encoder(&self) -> Option<EncoderInfo> {
        self.info
            .borrow()
            .as_ref()
            .and_then(|i| i.embeddings.clone())
    }

    /// Start the worker and load the models; `signal` aborts the load.
    pub async fn start(self: &Rc<Self>, signal: Option<&AbortSignal>) -> Result<(), JsValue> {
        if self.unloaded.get() {
            return Err(js_error(
                Code::InvalidRequest,
                "this Tandem was unloaded; create a new one",
            ));
        }
        if signal.is_some_and(AbortSignal::aborted) {
            return Err(aborted());
        }
        let (loaded, deferred) = Deferred::new();
        *self.loading.borrow_mut() = Some(deferred);
        self.spawn()?;
        let this = Rc::downgrade(self);
        let _abort = signal.map(|signal| {
            AbortHook::new(signal, move || {
                if let Some(this) = this.upgrade() {
                    this.stop(&aborted());
                }
            })
        });
        JsFuture::from(loaded).await.map(|_| ())
    }

    /// One short text through the sentence encoder, if one is loaded, its vector
    /// dropped: the first real request then finds the code on its way (the
    /// worker's and this side's) already run, and V8 optimising it (make bench:
    /// embed_wasm_first_vector_ms).
    pub async fn warm_up_encoder(self: &Rc<Self>) {
        if self.encoder().is_none() {
            return;
        }
        let request = EmbeddingRequest::of(EmbeddingInput::One("warm up".into()));
        // A failure here is the next request's to report.
        let _ = self.embed(request, None).await;
    }

    fn spawn(self: &Rc<Self>) -> Result<(), JsValue> {
        self.worker_started.set(now());
        let worker =
            spawn_worker(self.spec.threads, BUILD, wasm_bindgen::module()).map_err(|e| {
                js_error(
                    Code::WorkerCrashed,
                    &format!("could not start the worker: {}", crate::error::describe(&e)),
                )
            })?;
        let this = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(this) = this.upgrade() {
                this.receive(e.data());
            }
        });
        let this = Rc::downgrade(self);
        let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            if let Some(this) = this.upgrade() {
                this.crashed(&error_message(&e));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *self.running.borrow_mut() = Some(Running {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        });
        Ok(())
    }

    fn send(&self, message: &ToWorker) {
        if let Some(running) = &*self.running.borrow() {
            // Posting plain data to a live worker cannot fail.
            let _ = running.worker.post_message(&to_js(message));
        }
    }

    fn id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    /// The worker again if it crashed (the model comes back from the cache).
    async fn ensure_started(self: &Rc<Self>) -> Result<(), JsValue> {
        if self.running.borrow().is_some() {
            return Ok(());
        }
        self.start(None).await
    }

    /// Send `request` to the worker; its chunks arrive in the returned channel.
    /// `signal` aborts it.
    pub async fn chat(
        self: &Rc<Self>,
        request: ChatCompletionRequest,
        signal: Option<AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        if signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(aborted());
        }
        self.ensure_started().await?;
        let id = self.id();
        let channel = Rc::new(Channel::default());
        let this = Rc::downgrade(self);
        channel.on_return(move || {
            if let Some(this) = this.upgrade() {
                this.abort(id);
            }
        });
        let this = Rc::downgrade(self);
        let abort = signal.map(|signal| {
            AbortHook::new(&signal, move || {
                if let Some(this) = this.upgrade() {
                    this.abort(id);
                }
            })
        });
        self.pending.borrow_mut().insert(
            id,
            Pending::Reply {
                channel: channel.clone(),
                _abort: abort,
            },
        );
        self.send(&ToWorker::Chat {
            id,
            request: Box::new(request),
        });
        Ok(channel)
    }

    /// Stop request `id`: the reader gets `aborted` at once, the worker stops it
    /// before its next token.
    fn abort(&self, id: u32) {
        let Some(pending) = self.remove(id) else {
            return;
        };
        self.send(&ToWorker::Abort { id });
        match &pending {
            Pending::Reply { channel, .. } => channel.fail(aborted()),
            Pending::Answer(deferred) => deferred.reject(&aborted()),
        }
        // This may run inside the abort listener `pending` owns: drop it afterwards.
        wasm_bindgen_futures::spawn_local(async move { drop(pending) });
    }

    /// Prompt tokens of `messages` after the chat template.
    pub async fn count_tokens(
        self: &Rc<Self>,
        messages: Vec<ChatMessage>,
    ) -> Result<JsValue, JsValue> {
        self.ask(|id| ToWorker::CountTokens { id, messages }, None)
            .await
    }

    /// `labels` ranked for `text` by the model: `[{label, probability}]`, best first.
    pub async fn classify(
        self: &Rc<Self>,
        text: String,
        labels: Vec<String>,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        self.ask(|id| ToWorker::Classify { id, text, labels }, signal)
            .await
    }

    /// The embeddings of `request` by the worker's sentence encoder (an
    /// `EmbeddingResponse`).
    pub async fn embed(
        self: &Rc<Self>,
        request: EmbeddingRequest,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        let request = Box::new(request);
        self.ask(|id| ToWorker::Embed { id, request }, signal).await
    }

    /// Send the message `make(id)` and wait for the worker's one-message answer;
    /// `signal` aborts the wait (and the work, if still queued).
    async fn ask(
        self: &Rc<Self>,
        make: impl FnOnce(u32) -> ToWorker,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, JsValue> {
        if signal.is_some_and(AbortSignal::aborted) {
            return Err(aborted());
        }
        self.ensure_started().await?;
        let id = self.id();
        let (promise, deferred) = Deferred::new();
        self.pending
            .borrow_mut()
            .insert(id, Pending::Answer(deferred));
        let this = Rc::downgrade(self);
        let _abort = signal.map(|signal| {
            AbortHook::new(signal, move || {
                if let Some(this) = this.upgrade() {
                    this.abort(id);
                }
            })
        });
        self.send(&make(id));
        JsFuture::from(promise).await
    }

    /// Stop the worker and free the model; later calls fail.
    pub fn unload(&self) {
        self.unloaded.set(true);
        self.stop(&js_error(Code::Aborted, "the model was unloaded"));
    }

    /// Terminate the worker and fail everything waiting on it with `error`.
    fn stop(&self, error: &JsValue) {
        self.terminate();
        if let Some(loading) = self.loading.borrow_mut().take() {
            loading.reject(error);
        }
        let pending: Vec<_> = self.pending.borrow_mut().drain().collect();
        for (_, pending) in pending {
            match pending {
                Pending::Reply { channel, .. } => channel.fail(error.clone()),
                Pending::Answer(deferred) => deferred.reject(error),
            }
        }
    }

    /// Terminate the worker. Its handlers are dropped a moment later, as this may run
    /// inside one of them.
    fn terminate(&self) {
        let running = self.running.borrow_mut().take();
        if let Some(running) = running {
            running.worker.terminate();
            wasm_bindgen_futures::spawn_local(async move { drop(running) });
        }
    }

    /// The worker died: say why to everyone waiting; the next request restarts it.
    fn crashed(&self, message: &str) {
        let lower = message.to_ascii_lowercase();
        let code = if lower.contains("memory") {
            Code::OutOfMemory
        } else {
            Code::WorkerCrashed
        };
        self.stop(&js_error(
            code,
            &format!("the local model's worker stopped: {message}"),
        ));
    }

    fn answer(&self, id: u32, value: &JsValue) {
        if let Some(Pending::Answer(deferred)) = self.remove(id) {
            deferred.resolve(value);
        }
    }

    fn remove(&self, id: u32) -> Option<Pending> {
        self.pending.borrow_mut().remove(&id)
    }

    fn receive(&self, data: JsValue) {
        let message = match from_js::<FromWorker>(data) {
            Ok(message) => message,
            Err(e) => return self.crashed(&format!("unreadable message: {e}")),
        };
        match message {
            FromWorker::Ready => {
                self.worker_ready_ms.set(now() - self.worker_started.get());
                self.send(&ToWorker::Load(self.spec.clone()));
            }
            FromWorker::Progress(p) => call_hook(&self.hooks.on_progress, &to_js(&p)),
            FromWorker::Warning(w) => {
                web_sys::console::warn_1(&format!("tandem: {}", w.message).into());
                call_hook(&self.hooks.on_warning, &to_js(&w));
            }
            FromWorker::Loaded(mut info) => {
                if let Some(model) = &mut info.model {
                    // The worker times its load; starting it came before.
                    model.load_phases.compile_ms = self.worker_ready_ms.get();
                    model.load_ms += self.worker_ready_ms.get();
                }
                *self.info.borrow_mut() = Some(info);
                if let Some(loading) = self.loading.borrow_mut().take() {
                    loading.resolve(&JsValue::UNDEFINED);
                }
            }
            FromWorker::Chunk { id, chunk } => {
                let channel = match self.pending.borrow().get(&id) {
                    Some(Pending::Reply { channel, .. }) => Some(channel.clone()),
                    _ => None,
                };
                if let Some(channel) = channel {
                    channel.push(Item::Chunk(to_js(&chunk)));
                }
            }
            FromWorker::Done { id } => {
                if let Some(Pending::Reply { channel, .. }) = self.remove(id) {
                    channel.push(Item::End);
                }
            }
            FromWorker::Count { id, tokens } => self.answer(id, &tokens.into()),
            FromWorker::Labels { id, labels } => self.answer(id, &to_js(&labels)),
            FromWorker::Embedded { id, response } => self.answer(id, &to_js(&response)),
            FromWorker::Failed { id, code, message } => {
                let error = js_error(code, &message);
                match id {
                    None => {
                        if let Some(loading) = self.loading.borrow_mut().take() {
                            loading.reject(&error);
                        }
                        self.terminate();
                    }
                    Some(id) => match self.remove(id) {
                        Some(Pending::Reply { channel, .. }) => channel.push(Item::Error(error)),
                        Some(Pending::Answer(deferred)) => deferred.reject(&error),
                        None => {}
                    },
                }
            }
            FromWorker::Crashed { message } => self.crashed(&message),
        }
    }
}

/// What a worker's `error` event says: an uncaught error's message, or, for a plain
/// event, that the script never ran.
fn error_message(event: &Event) -> String {
    match event.dyn_ref::<ErrorEvent>() {
        Some(error) => error.message(),
        None => "its script did not load (a network error, or a response the page's \
                 Cross-Origin-Embedder-Policy blocks)"
            .into(),
    }
}

/// Call an app callback; a throw is logged, never propagated.
pub fn call_hook(hook: &Option<Function>, value: &JsValue) {
    if let Some(hook) = hook {
        if let Err(e) = hook.call1(&JsValue::NULL, value) {
            web_sys::console::error_2(&"tandem: a callback threw".into(), &e);
        }
    }
}
