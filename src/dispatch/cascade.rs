//! The cascade: answer locally with log-probabilities, hold the answer back, and let
//! the router's judge decide whether the server's answer replaces it.

use std::rc::Rc;

use tandem_core::router::{self, Decision, Policy, Target};
use tandem_core::ChatCompletionRequest;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::report::{announce, Report};
use super::start::Started;
use super::Engines;
use crate::chunks;
use crate::code::Code;
use crate::error::{code, describe};
use crate::stream::{Channel, Item};

impl Engines {
    /// Answer locally with log-probabilities, keep the answer back, and ask the
    /// server instead when the router's judge doubts it.
    pub(super) async fn cascade(
        self: &Rc<Self>,
        request: ChatCompletionRequest,
        report: Report,
        policy: &Policy,
        signal: Option<&AbortSignal>,
    ) -> Result<Rc<Channel>, JsValue> {
        let strip = !request.logprobs.unwrap_or(false);
        let mut probed = request.clone();
        probed.logprobs = Some(true);
        let (report, local) = self
            .start_or_fall_back(report, &probed, &request, policy, signal)
            .await?;
        if report.fallback.is_some() {
            return Ok(self.relay(local, report, signal, false));
        }
        let first_token_at = local.first_token_at;
        let mut answer = local.head;
        while let Some(chunk) = local.rest.next_chunk().await? {
            answer.push(chunk);
        }
        let steps: Vec<_> = answer.iter().flat_map(chunks::logprobs).collect();
        let verdict = router::judge(&steps);
        let decision = &report.decision;
        let keep_local = |reason: String| {
            let done = Rc::new(Channel::default());
            done.push(Item::End);
            let started = Started {
                head: answer.clone(),
                rest: done,
                first_token_at,
            };
            let decision = Decision {
                reason,
                ..decision.clone()
            };
            let kept = Report::new(decision, report.requested_at).escalated(false);
            self.relay(started, kept, signal, strip)
        };
        if !verdict.escalate {
            return Ok(keep_local(format!(
                "{}; {}",
                decision.reason, verdict.reason
            )));
        }
        let Some(next) =
            router::fallback(decision, &self.environment(policy), policy, &verdict.reason)
        else {
            return Ok(keep_local(format!(
                "{}; {}, but the server may not answer this one",
                decision.reason, verdict.reason
            )));
        };
        let next = Decision {
            reason: format!("escalated: {}", verdict.reason),
            ..next
        };
        announce(&self.events, &next, None);
        match self.start(Target::Remote, &request, signal).await {
            Ok(started) => {
                let escalated = Report::new(next, report.requested_at).escalated(true);
                Ok(self.relay(started, escalated, signal, false))
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
}
