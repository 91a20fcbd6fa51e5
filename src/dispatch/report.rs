//! How a request was routed, said twice: in `route` events as decisions are made, and
//! in the `tandem` object of the last chunk (route, reason, scores, fallback,
//! escalated, speeds).

use serde::Serialize;
use tandem_core::router::{Decision, Target};
use tandem_core::TandemInfo;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use crate::messages::to_js;

/// What the last chunk's `tandem` object will say.
pub struct Report {
    /// The decision that holds.
    pub decision: Decision,
    /// Why the first engine failed, after a fallback.
    pub fallback: Option<String>,
    /// Whether the cascade replaced the local answer (`None`: no cascade).
    pub escalated: Option<bool>,
    /// When the app asked (ms since the epoch).
    pub requested_at: f64,
}

impl Report {
    /// The report of `decision` for a request made at `requested_at`.
    pub fn new(decision: Decision, requested_at: f64) -> Self {
        Report {
            decision,
            fallback: None,
            escalated: None,
            requested_at,
        }
    }

    /// The same request, now on `decision` because the first engine failed (`why`).
    pub fn fell_back(self, decision: Decision, why: String) -> Self {
        Report {
            decision,
            fallback: Some(why),
            ..self
        }
    }

    /// The same report, saying whether the cascade replaced the local answer.
    pub fn escalated(self, escalated: bool) -> Self {
        Report {
            escalated: Some(escalated),
            ..self
        }
    }

    /// The `tandem` object: `measured` (model, speeds) with the route, reason,
    /// scores, fallback and escalation.
    pub fn info(&self, measured: TandemInfo) -> TandemInfo {
        TandemInfo {
            route: self.route(),
            reason: Some(self.decision.reason.clone()),
            scores: Some(self.decision.scores.clone()),
            fallback: self.fallback.clone(),
            escalated: self.escalated,
            ..measured
        }
    }

    /// `local`, `remote`, or `local→remote` when the server's answer replaced a
    /// local one.
    fn route(&self) -> String {
        match self.escalated {
            Some(true) => format!("{}→{}", Target::Local, Target::Remote),
            _ => self.decision.target.to_string(),
        }
    }
}

/// Send a `route` event on `events`: where the request goes and why (`decision`: a
/// chat [`Decision`] or an embeddings route; `fallback`: why the other side failed).
pub fn announce(events: &EventTarget, decision: &impl Serialize, fallback: Option<&str>) {
    let detail = to_js(&RouteEvent { decision, fallback });
    let init = CustomEventInit::new();
    init.set_detail(&detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict("route", &init) {
        let _ = events.dispatch_event(&event);
    }
}

/// The payload of a `route` event.
#[derive(Serialize)]
struct RouteEvent<'a, D> {
    #[serde(flatten)]
    decision: &'a D,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<&'a str>,
}
