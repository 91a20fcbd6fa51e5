//! Fallback: when the chosen engine fails before its first chunk reaches the app, the
//! router's other side answers instead, and the report says why.

use tandem_core::router::{self, Policy};
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::report::{announce, Report};
use super::start::Started;
use super::Engines;
use crate::code::Code;
use crate::error::{code, describe};

impl Engines {
    /// Start `first` on the engine of `report`'s decision; if that fails before its
    /// first chunk and the router allows it, start `then` on the other engine.
    pub(super) async fn start_or_fall_back(
        &self,
        report: Report,
        first: &ChatCompletionRequest,
        then: &ChatCompletionRequest,
        policy: &Policy,
        signal: Option<&AbortSignal>,
    ) -> Result<(Report, Started), JsValue> {
        match self.start(report.decision.target, first, signal).await {
            Ok(started) => Ok((report, started)),
            Err(error) => self.fall_back(report, error, then, policy, signal).await,
        }
    }

    /// After the engine of `report`'s decision failed with `error`: announce the
    /// router's other side and start `request` there, the report saying why; `error`
    /// itself when there is no other side.
    pub(super) async fn fall_back(
        &self,
        report: Report,
        error: JsValue,
        request: &ChatCompletionRequest,
        policy: &Policy,
        signal: Option<&AbortSignal>,
    ) -> Result<(Report, Started), JsValue> {
        let why = describe(&error);
        let next = fallback_eligible(&error)
            .then(|| router::fallback(&report.decision, &self.environment(policy), policy, &why))
            .flatten()
            .ok_or(error)?;
        announce(&self.events, &next, Some(&why));
        let started = self.start(next.target, request, signal).await?;
        Ok((report.fell_back(next, why), started))
    }
}

/// Whether the other engine may try after `error`: not after an abort or a request
/// that is wrong wherever it runs.
fn fallback_eligible(error: &JsValue) -> bool {
    !matches!(code(error), Some(Code::Aborted | Code::InvalidRequest))
}
