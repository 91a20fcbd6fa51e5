//! What tandem learns of each engine's speed, from every reply, for the router's
//! next decisions.

use std::cell::Cell;

use tandem_core::router::{LocalEnv, RemoteEnv};
use tandem_core::TandemInfo;

/// The learnt speeds of both engines (zero until measured).
#[derive(Default)]
pub struct Speeds {
    local: Cell<LocalEnv>,
    remote: Cell<RemoteEnv>,
}

impl Speeds {
    /// The local engine's speeds so far.
    pub fn local(&self) -> LocalEnv {
        self.local.get()
    }

    /// The remote engine's speeds so far.
    pub fn remote(&self) -> RemoteEnv {
        self.remote.get()
    }

    /// Learn from the local engine's own measurement of a reply.
    pub fn learn_local(&self, measured: &TandemInfo) {
        let mut speed = self.local.get();
        speed.prefill_tokens_per_s =
            moving_average(speed.prefill_tokens_per_s, measured.prefill_tokens_per_s);
        speed.decode_tokens_per_s =
            moving_average(speed.decode_tokens_per_s, measured.decode_tokens_per_s);
        self.local.set(speed);
    }

    /// Learn the server's time to first token (ms) and decode speed (tokens/s), as
    /// the page measured them.
    pub fn learn_remote(&self, time_to_first_token_ms: f64, decode_tokens_per_s: f64) {
        let mut speed = self.remote.get();
        speed.time_to_first_token_ms =
            moving_average(speed.time_to_first_token_ms, time_to_first_token_ms);
        speed.decode_tokens_per_s = moving_average(speed.decode_tokens_per_s, decode_tokens_per_s);
        self.remote.set(speed);
    }
}

/// A moving average that ignores missing measurements.
fn moving_average(old: f64, new: f64) -> f64 {
    if new > 0.0 && new.is_finite() {
        0.5 * old + 0.5 * new
    } else {
        old
    }
}
