//! Watches one reply's chunks for the metrics and the token rate limit, and
//! records them when the reply ends, however it ends (a dropped tally is a
//! cancelled request). Tokens are counted as they come, so a reply the client drops
//! before its usage chunk is still charged: the prompt as estimated, and a token per
//! chunk with text. It also holds the request's place among those in flight. An
//! embeddings request is accounted the same way: its texts and tokens once answered.

use std::sync::Arc;
use std::time::Instant;

use tandem_core::ChatCompletionChunk;
use tokio::sync::OwnedSemaphorePermit;

use crate::admission;
use crate::metrics::{Api, Outcome};
use crate::state::App;

/// The running account of one request.
pub struct Tally {
    app: Arc<App>,
    keys: Vec<String>,
    started: Instant,
    first: Option<Instant>,
    last: Option<Instant>,
    outcome: Outcome,
    /// Whether a usage chunk gave the exact token counts.
    exact: bool,
    place: Option<OwnedSemaphorePermit>,
}

impl Tally {
    /// A chat request that arrived at `started`.
    pub fn new(app: Arc<App>, started: Instant) -> Self {
        Self::of(Api::Chat, app, started)
    }

    /// An embeddings request that arrived at `started`.
    pub fn embeddings(app: Arc<App>, started: Instant) -> Self {
        Self::of(Api::Embeddings, app, started)
    }

    fn of(api: Api, app: Arc<App>, started: Instant) -> Self {
        Tally {
            app,
            keys: vec![],
            started,
            first: None,
            last: None,
            outcome: Outcome {
                api,
                backend: "none".into(),
                status: "cancelled".into(),
                ..Outcome::default()
            },
            exact: false,
            place: None,
        }
    }

    /// Hold the request's place among those in flight until the reply ends.
    pub fn hold(&mut self, place: OwnedSemaphorePermit) {
        self.place = Some(place);
    }

    /// The rate-limit keys of the client, charged for the tokens at the end.
    pub fn clients(&mut self, keys: Vec<String>) {
        self.keys = keys;
    }

    /// The backend that answers a prompt of about `prompt_tokens`.
    pub fn backend(&mut self, name: &str, prompt_tokens: usize) {
        name.clone_into(&mut self.outcome.backend);
        self.outcome.tokens.0 = prompt_tokens;
    }

    /// An embeddings request answered: `inputs` texts of `tokens` tokens.
    pub fn embedded(&mut self, inputs: usize, tokens: usize) {
        self.outcome.inputs = inputs;
        self.outcome.tokens = (tokens, 0);
    }

    /// How the request ended: an HTTP status or `stream_error`.
    pub fn end(&mut self, status: impl ToString) {
        self.outcome.status = status.to_string();
    }

    /// Note a chunk on its way to the client.
    pub fn observe(&mut self, chunk: &ChatCompletionChunk) {
        let content = chunk
            .choices
            .iter()
            .any(|c| c.delta.content.as_ref().is_some_and(|t| !t.is_empty()));
        if content {
            let now = Instant::now();
            self.first.get_or_insert(now);
            self.last = Some(now);
            if !self.exact {
                self.outcome.tokens.1 += 1;
            }
        }
        if let Some(u) = chunk.usage {
            self.outcome.tokens = (u.prompt_tokens, u.completion_tokens);
            self.exact = true;
        }
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        let o = &mut self.outcome;
        o.seconds = self.started.elapsed().as_secs_f64();
        o.ttft = self.first.map(|t| (t - self.started).as_secs_f64());
        if let (Some(first), Some(last)) = (self.first, self.last) {
            o.decode_seconds = (last - first).as_secs_f64();
        }
        let ms = (o.seconds * 1e3) as u64;
        match o.api {
            Api::Chat => tracing::info!(
                backend = %o.backend,
                status = %o.status,
                prompt_tokens = o.tokens.0,
                completion_tokens = o.tokens.1,
                ms,
                "chat completion"
            ),
            Api::Embeddings => tracing::info!(
                backend = %o.backend,
                status = %o.status,
                inputs = o.inputs,
                tokens = o.tokens.0,
                ms,
                "embeddings"
            ),
        }
        self.app.metrics.record(o);
        let tokens = o.tokens.0 + o.tokens.1;
        admission::charge(&self.app, std::mem::take(&mut self.keys), tokens);
    }
}
