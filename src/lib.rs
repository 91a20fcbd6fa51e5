//! tandem in the browser: wasm-bindgen classes over tandem-core.
//!
//! ```js
//! import init, { LocalModel } from "tandem";
//! await init();
//! const model = new LocalModel(new Uint8Array(await (await fetch(url)).arrayBuffer()));
//! const reply = model.stream([{ role: "user", content: "Hi" }], { max_tokens: 32 });
//! for (let step = reply.next(); !step.done; step = reply.next()) show(step.text);
//! ```

mod error;
mod local_model;
mod options;

pub use local_model::{LocalModel, ReplyStream};

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module is instantiated: panics go to the console as errors
/// instead of vanishing.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
