//! `ai.tasks`: what a small local model is good at, one call away. Each task is a
//! tuned request from tandem-core's tasks, routed like any request (the task is the
//! router's hint) and answered with its route. Locally, `classify` scores the labels
//! by the model's likelihood instead of generating text.

use std::rc::Rc;

use js_sys::Promise;
use serde_json::Value;
use tandem_core::tasks::{Task, Tone};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::code::Code;
use crate::dispatch::Engines;
use crate::error::js_error;
use crate::messages::from_js;
use crate::options::{option, task_options};
use crate::search::{self, SearchIndex};

/// `ai.tasks`.
#[wasm_bindgen]
pub struct Tasks {
    engines: Rc<Engines>,
}

impl Tasks {
    /// The tasks over `engines`.
    pub fn new(engines: Rc<Engines>) -> Self {
        Tasks { engines }
    }

    /// Run `task` on `text` with the routing fields and signal of `options`.
    fn run(
        &self,
        task: Result<Task, JsValue>,
        text: String,
        options: JsValue,
        keys: &[&str],
    ) -> Promise {
        let engines = self.engines.clone();
        let call = task_options(&options, keys);
        future_to_promise(async move {
            let (routing, signal) = call?;
            engines.task(task?, &text, routing, signal).await
        })
    }
}

#[wasm_bindgen]
impl Tasks {
    /// Rank 2–20 `labels` for `text`: `{labels: [{label, probability}], tandem}`,
    /// best first, probabilities summing to 1.
    #[wasm_bindgen(unchecked_return_type = "Promise<TaskResult<{ labels: LabelScore[] }>>")]
    pub fn classify(
        &self,
        text: String,
        #[wasm_bindgen(unchecked_param_type = "string[]")] labels: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TaskOptions")] options: JsValue,
    ) -> Promise {
        let task = from_js(labels)
            .map(|labels| Task::Classify { labels })
            .map_err(|e| {
                js_error(
                    Code::InvalidRequest,
                    &format!("labels must be strings: {e}"),
                )
            });
        self.run(task, text, options, &[])
    }

    /// Summarise `text` in `sentences` (1–5, default 1): `{text, tandem}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TaskResult<{ text: string }>>")]
    pub fn summarize(
        &self,
        text: String,
        #[wasm_bindgen(unchecked_optional_param_type = "TaskOptions & { sentences?: number }")]
        options: JsValue,
    ) -> Promise {
        let task = option(&options, "sentences").map(|n| Task::Summarize {
            sentences: n.unwrap_or(1),
        });
        self.run(task, text, options, &["sentences"])
    }

    /// Rewrite `text` in a `tone`: `polite` (default), `formal`, `casual` or
    /// `shorter`: `{text, tandem}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TaskResult<{ text: string }>>")]
    pub fn rewrite(
        &self,
        text: String,
        #[wasm_bindgen(unchecked_optional_param_type = "TaskOptions & { tone?: Tone }")]
        options: JsValue,
    ) -> Promise {
        let task = option(&options, "tone").map(|tone| Task::Rewrite {
            tone: tone.unwrap_or(Tone::Polite),
        });
        self.run(task, text, options, &["tone"])
    }

    /// `n` (1–5, default 3) distinct short replies to `message`: `{replies, tandem}`.
    #[wasm_bindgen(
        js_name = smartReplies,
        unchecked_return_type = "Promise<TaskResult<{ replies: string[] }>>"
    )]
    pub fn smart_replies(
        &self,
        message: String,
        #[wasm_bindgen(unchecked_optional_param_type = "TaskOptions & { n?: number }")]
        options: JsValue,
    ) -> Promise {
        let task = option(&options, "n").map(|n| Task::SmartReplies { n: n.unwrap_or(3) });
        self.run(task, message, options, &["n"])
    }

    /// The fields of `text` as JSON valid for `schema` (a JSON Schema object):
    /// `{data, tandem}`.
    #[wasm_bindgen(
        unchecked_return_type = "Promise<TaskResult<{ data: Record<string, unknown> }>>"
    )]
    pub fn extract(
        &self,
        text: String,
        #[wasm_bindgen(unchecked_param_type = "object")] schema: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TaskOptions")] options: JsValue,
    ) -> Promise {
        let task = from_js::<Value>(schema)
            .map(|schema| Task::Extract { schema })
            .map_err(|e| js_error(Code::InvalidRequest, &format!("schema must be JSON: {e}")));
        self.run(task, text, options, &[])
    }

    /// The `topK` (default 10) of `documents` most like `query`, by cosine
    /// similarity of their embeddings (local unless routed otherwise): `{results:
    /// [{index, score}], tandem}`, best first.
    #[wasm_bindgen(
        unchecked_return_type = "Promise<{ results: { index: number; score: number }[]; tandem: EmbeddingRoute }>"
    )]
    pub fn rank(
        &self,
        query: String,
        #[wasm_bindgen(unchecked_param_type = "string[]")] documents: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SearchOptions")] options: JsValue,
    ) -> Promise {
        search::rank(self.engines.clone(), query, documents, options)
    }

    /// A search index: empty (its model set by the first vectors added), or `saved`
    /// (what `index.save()` gave, e.g. before a reload).
    pub fn index(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SavedIndex")] saved: Option<js_sys::Object>,
    ) -> Result<SearchIndex, JsValue> {
        SearchIndex::new(
            self.engines.clone(),
            saved.map_or(JsValue::NULL, Into::into),
        )
    }

    /// The `topK` (default 10) ids of `index` most like `query` (a text, or a vector
    /// of the index's model): `{results: [{id, score}], tandem}`, best first.
    #[wasm_bindgen(
        unchecked_return_type = "Promise<{ results: { id: string; score: number }[]; tandem: EmbeddingRoute | null }>"
    )]
    pub fn search(
        &self,
        index: &SearchIndex,
        #[wasm_bindgen(unchecked_param_type = "string | Float32Array | number[]")] query: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SearchOptions")] options: JsValue,
    ) -> Promise {
        index.search(query, options)
    }
}
