//! The worker side: loads the model and answers chat requests one at a time,
//! streaming chunks to the page. Between two steps of a reply it yields to its event
//! loop, so an abort message is seen within one token.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Promise;
use tandem_core::embed::{Embeddings, Encoder};
use tandem_core::protocol::{EmbeddingRequest, EmbeddingResponse};
use tandem_core::{CancelFlag, ChatCompletionRequest, EngineLoader, ReplyStep};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use crate::code::Code;
use crate::encoder_loader;
use crate::error::Failure;
use crate::global::now;
use crate::loader::{self, FileSpec};
use crate::local_model::LocalModel;
use crate::messages::{
    from_js, to_js, FromWorker, LoadSpec, LoadedFile, LocalInfo, ModelInfo, Phase, Progress,
    ToWorker, Warning,
};

/// Internal: the entry point of `tandem_worker.js`, which answers the page's
/// messages from now on. `threads` share the model's matrix products (1 in the
/// single-threaded build); `fallback` says why fewer threads run than the page
/// asked for.
#[wasm_bindgen(js_name = startWorker)]
pub fn start_worker(threads: u32, fallback: Option<String>) {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&FromWorker::Crashed {
            message: info.to_string(),
        });
    }));
    let worker = Rc::new(Worker {
        threads,
        ..Worker::default()
    });
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
        worker.handle(e.data());
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&FromWorker::Ready);
    if let Some(message) = fallback {
        post(&FromWorker::Warning(Warning::new(
            "threads_unavailable",
            message,
        )));
    }
}

/// Internal: this build's compiled `WebAssembly.Module`, which `tandem_worker.js`
/// gives the page to start its next worker on.
#[wasm_bindgen(js_name = compiledModule)]
pub fn compiled_module() -> JsValue {
    wasm_bindgen::module()
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    // Posting plain data to the page cannot fail.
    let _ = scope().post_message(&to_js(message));
}

fn post_failure(id: Option<u32>, failure: Failure) {
    post(&FromWorker::Failed {
        id,
        code: failure.code,
        message: failure.message,
    });
}

/// Work for the worker's models, run one at a time.
enum Job {
    /// A chat reply, streamed.
    Chat(Box<ChatCompletionRequest>),
    /// Label scoring.
    Classify { text: String, labels: Vec<String> },
    /// Embeddings of texts.
    Embed(Box<EmbeddingRequest>),
}

/// Inputs embedded between two looks at the event loop (for an abort).
const EMBED_STEP: usize = 32;

#[derive(Default)]
struct Worker {
    threads: u32,
    model: RefCell<Option<Rc<LocalModel>>>,
    /// The sentence encoder and its name, when one was loaded.
    encoder: RefCell<Option<Rc<(Encoder, String)>>>,
    queue: RefCell<VecDeque<(u32, Job)>>,
    running: RefCell<Option<(u32, CancelFlag)>>,
    busy: Cell<bool>,
}

impl Worker {
    fn handle(self: &Rc<Self>, data: JsValue) {
        let message = match from_js::<ToWorker>(data) {
            Ok(message) => message,
            Err(e) => return post_failure(None, Failure::new(Code::Internal, e)),
        };
        match message {
            ToWorker::Load(spec) => {
                let this = self.clone();
                spawn_local(async move { this.load(spec).await });
            }
            ToWorker::Chat { id, request } => self.enqueue(id, Job::Chat(request)),
            ToWorker::Classify { id, text, labels } => {
                self.enqueue(id, Job::Classify { text, labels })
            }
            ToWorker::Embed { id, request } => self.enqueue(id, Job::Embed(request)),
            ToWorker::Abort { id } => self.abort(id),
            ToWorker::CountTokens { id, messages } => match self.model() {
                Ok(model) => match model.count(&messages) {
                    Ok(tokens) => post(&FromWorker::Count { id, tokens }),
                    Err(f) => post_failure(Some(id), f),
                },
                Err(f) => post_failure(Some(id), f),
            },
        }
    }

    fn enqueue(self: &Rc<Self>, id: u32, job: Job) {
        self.queue.borrow_mut().push_back((id, job));
        if !self.busy.replace(true) {
            let this = self.clone();
            spawn_local(async move { this.run_queue().await });
        }
    }

    fn model(&self) -> Result<Rc<LocalModel>, Failure> {
        self.model
            .borrow()
            .clone()
            .ok_or_else(|| Failure::new(Code::NoRoute, "no local chat model is loaded"))
    }

    async fn load(&self, spec: LoadSpec) {
        let progress = |p| post(&FromWorker::Progress(p));
        let warn = |w| post(&FromWorker::Warning(w));
        let model = match &spec.url {
            Some(url) => match self.load_model(url, &spec, &progress, &warn).await {
                Ok(info) => Some(info),
                Err(f) => return post_failure(None, f),
            },
            None => None,
        };
        let embeddings = match &spec.embeddings {
            Some(encoder) => {
                let started = js_sys::Date::now();
                match encoder_loader::load(encoder, spec.cache, &progress, &warn, started).await {
                    Ok((encoder, info)) => {
                        *self.encoder.borrow_mut() = Some(Rc::new((encoder, info.model.clone())));
                        Some(info)
                    }
                    Err(f) => return post_failure(None, f),
                }
            }
            None => None,
        };
        post(&FromWorker::Loaded(LocalInfo { model, embeddings }));
    }

    /// Load the chat model from `url`, keep it, and describe it.
    async fn load_model(
        &self,
        url: &str,
        spec: &LoadSpec,
        progress: &dyn Fn(Progress),
        warn: &dyn Fn(Warning),
    ) -> Result<ModelInfo, Failure> {
        let started = now();
        let file = FileSpec {
            url,
            sha256: spec.sha256.as_deref(),
            cache: spec.cache,
            file: LoadedFile::Model,
        };
        let loaded = loader::load::<EngineLoader>(&file, progress, warn).await?;
        let total = loaded.bytes;
        let finishing = now();
        let model = LocalModel::from_engine(loaded.sink.finish()?);
        let mut load_phases = loaded.phases;
        load_phases.build_ms += now() - finishing;
        progress(Progress {
            file: LoadedFile::Model,
            phase: Phase::Load,
            loaded: total,
            total,
        });
        let description = model.description();
        let info = ModelInfo {
            model: model.name(),
            architecture: description.architecture,
            parameters: description.parameters as f64,
            quantization: (description.quantization.into_iter())
                .map(|(dtype, weights)| (dtype, weights as f64))
                .collect(),
            chat: description.chat,
            tools: description.tools,
            context_window: model.context_window(),
            from_cache: loaded.from_cache,
            bytes: total,
            load_ms: now() - started,
            load_phases,
            memory_bytes: memory_bytes(),
            threads: self.threads,
            relaxed_simd: cfg!(feature = "relaxed-simd"),
        };
        *self.model.borrow_mut() = Some(Rc::new(model));
        Ok(info)
    }

    fn abort(&self, id: u32) {
        if let Some((running, cancel)) = &*self.running.borrow() {
            if *running == id {
                return cancel.cancel();
            }
        }
        let mut queue = self.queue.borrow_mut();
        if let Some(at) = queue.iter().position(|(queued, _)| *queued == id) {
            queue.remove(at);
            post_failure(Some(id), tandem_core::Error::Aborted.into());
        }
    }

    async fn run_queue(&self) {
        loop {
            let Some((id, job)) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            let done = match job {
                Job::Chat(request) => self
                    .run(id, &request)
                    .await
                    .map(|()| FromWorker::Done { id }),
                Job::Classify { text, labels } => self
                    .model()
                    .and_then(|model| model.classify(&text, &labels))
                    .map(|labels| FromWorker::Labels { id, labels }),
                Job::Embed(request) => {
                    self.embed(id, &request)
                        .await
                        .map(|response| FromWorker::Embedded {
                            id,
                            response: Box::new(response),
                        })
                }
            };
            match done {
                Ok(message) => post(&message),
                Err(f) => post_failure(Some(id), f),
            }
            *self.running.borrow_mut() = None;
        }
        self.busy.set(false);
    }

    /// The embeddings of `request`, a few inputs at a time so that an abort lands
    /// between them.
    async fn embed(
        &self,
        id: u32,
        request: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, Failure> {
        let cancel = CancelFlag::default();
        *self.running.borrow_mut() = Some((id, cancel.clone()));
        let encoder = self.encoder.borrow().clone().ok_or_else(|| {
            Failure::new(
                Code::InvalidRequest,
                "no sentence encoder is loaded (options.local.embeddings)",
            )
        })?;
        let (encoder, name) = &*encoder;
        request.validate()?;
        let texts = request.texts();
        let truncate = request.truncate.unwrap_or(false);
        let mut data = Vec::with_capacity(texts.len());
        for (n, step) in texts.chunks(EMBED_STEP).enumerate() {
            if cancel.is_cancelled() {
                return Err(tandem_core::Error::Aborted.into());
            }
            data.extend(encoder.embed_numbered(step, truncate, n * EMBED_STEP)?.data);
            yield_now().await;
        }
        Ok(EmbeddingResponse::new(request, &Embeddings { data }, name)?)
    }

    async fn run(&self, id: u32, request: &ChatCompletionRequest) -> Result<(), Failure> {
        let cancel = CancelFlag::default();
        *self.running.borrow_mut() = Some((id, cancel.clone()));
        let mut reply = self.model()?.start(request, cancel)?;
        while let Some(step) = reply.step()? {
            if let ReplyStep::Chunk(chunk) = step {
                post(&FromWorker::Chunk {
                    id,
                    chunk: Box::new(chunk),
                });
            }
            yield_now().await;
        }
        Ok(())
    }
}

/// Let the worker's event loop run (and deliver an abort), without the 4 ms clamp of
/// nested timers: a message to ourselves through a fresh channel.
async fn yield_now() {
    let turn = Promise::new(&mut |resolve, _| {
        if let Ok(channel) = MessageChannel::new() {
            channel.port1().set_onmessage(Some(&resolve));
            let _ = channel.port2().post_message(&JsValue::NULL);
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(turn).await;
}

/// Bytes of this worker's wasm memory.
fn memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}
