//! Quick tasks (`ai.tasks`): the task's request routed like any other (the task is
//! the router's hint), its answer parsed into the task's result. Locally, `classify`
//! scores the labels instead, falling back like a chat request when that fails.

use std::rc::Rc;

use tandem_core::router::{self, Target};
use tandem_core::tasks::{Task, TaskOutput};
use tandem_core::TandemInfo;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::Engines;
use crate::chunks;
use crate::error::core_error;
use crate::messages::{from_js, to_js, LabelScore};
use crate::options::RouteFields;

impl Engines {
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
        let report = self.route(&request, &options).await?;
        let signal = signal.as_ref();
        let channel = match (&task, &self.local, report.decision.target) {
            (Task::Classify { labels }, Some(local), Target::Local) => {
                match local.classify(text.into(), labels.clone(), signal).await {
                    Ok(labels) => {
                        let measured = TandemInfo {
                            model: local.info().map(|i| i.model).unwrap_or_default(),
                            time_to_first_token_ms: js_sys::Date::now() - report.requested_at,
                            ..TandemInfo::default()
                        };
                        return Ok(to_js(&TaskResult {
                            output: Output::Labels(from_js(labels).unwrap_or_default()),
                            tandem: Some(report.info(measured)),
                        }));
                    }
                    Err(error) => {
                        let (report, started) = self
                            .fall_back(report, error, &request, &options.policy, signal)
                            .await?;
                        self.relay(started, report, signal, false)
                    }
                }
            }
            _ => self.answer(report, request, &options, signal).await?,
        };
        let completion = chunks::completion(&channel).await?;
        let answer = completion
            .choices
            .first()
            .and_then(|c| c.message.content.as_deref())
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
