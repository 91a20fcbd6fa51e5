//! Where a request runs, and what happens when that side fails: ask the router
//! ([`decide`]), run on the chosen engine ([`start`]), fall back to the other before
//! the first chunk reaches the app ([`fallback`]), escalate a doubtful local answer
//! ([`cascade`]), pass the chunks on and learn each side's speed ([`relay`],
//! [`speeds`]), and say all of it in `route` events and in the `tandem` object of the
//! last chunk ([`report`]). [`chat`] and [`task`] are the entry points; [`embed`]
//! routes embeddings by rules of their own.

mod cascade;
mod chat;
mod decide;
mod embed;
mod fallback;
mod relay;
mod report;
mod speeds;
mod start;
mod task;

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::EventTarget;

use self::speeds::Speeds;
use crate::local::Local;
use crate::options::{RouteFields, RouteOptions};
use crate::remote::Remote;

/// The two engines and what tandem has learnt about them.
pub struct Engines {
    local: Option<Rc<Local>>,
    remote: Option<Rc<Remote>>,
    defaults: RouteFields,
    speeds: Speeds,
    /// Until when (ms since the epoch) the remote engine counts as unreachable.
    remote_down_until: Cell<f64>,
    events: EventTarget,
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
            speeds: Speeds::default(),
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
}
