//! tandem in the browser: one OpenAI-shaped chat API over a small model that runs in
//! a Web Worker.
//!
//! ```js
//! import init, { Tandem } from "tandem";
//! await init();
//! const ai = await Tandem.create({ local: { modelUrl: "/models/model.gguf" } });
//! const reply = await ai.chat.completions.create({ messages: [{ role: "user", content: "Hi" }] });
//! ```
//!
//! Page side: [`tandem`] (the API), [`local`] (the worker handle), [`stream`]
//! (chunks as an async iterator). Worker side: [`worker`], [`loader`] (download,
//! cache, integrity). [`local_model`] runs a model in the current thread.

mod abort;
mod chunks;
mod code;
mod deferred;
mod digest;
mod dispatch;
mod embeddings;
mod encoder_loader;
mod error;
mod global;
mod loader;
mod local;
mod local_model;
mod messages;
mod model_cache;
mod options;
mod remote;
mod search;
mod stream;
mod tandem;
mod tasks;
mod text_stream;
mod timer;
#[cfg(all(test, feature = "ts"))]
mod typegen;
mod types;
mod worker;

pub use local_model::{LocalModel, ReplyStream};
pub use stream::ChunkStream;
pub use tandem::{Chat, Completions, Tandem, TextCompletions};
pub use tasks::Tasks;
pub use text_stream::TextStream;
/// `initThreadPool(n)`: start the multi-threaded build's `n` threads (js/worker.js).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module is instantiated: panics go to the console as errors
/// instead of vanishing.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
