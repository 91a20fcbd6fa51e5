//! Structured output: JSON constrained by a schema while decoding. Before each token
//! is sampled, every token that could not continue a matching JSON text gets `-inf`;
//! end-of-generation is allowed only once the value is complete, and generation
//! stops as soon as nothing more may follow it. call.rs: a tool call decoded the
//! same way, a stage at a time.

mod call;
mod mask;
mod matcher;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

pub use call::{CallConstraint, CallToken, Functions};
pub use mask::{TokenSet, TokenTrie};
pub use matcher::{Matcher, MAX_WHITESPACE};
pub use schema::{Schema, MAX_CHOICES};

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Most distinct matcher states whose token sets one generation keeps.
const CACHE_STATES: usize = 256;
/// Within this many tokens of the shortest completion plus the budget's end, each
/// token must leave the value completable in the tokens left.
const CLOSING_MARGIN: usize = 24;

/// The schema constraint of one generation: where the JSON text is, and the allowed
/// tokens of each state met so far.
pub struct Constraint {
    schema: Arc<Schema>,
    matcher: Matcher,
    cache: HashMap<Matcher, Arc<TokenSet>>,
}

impl Constraint {
    /// A constraint at the start of a text that must match `schema`.
    pub fn new(schema: Arc<Schema>) -> Self {
        Constraint {
            schema,
            matcher: Matcher::new(),
            cache: HashMap::new(),
        }
    }

    /// The tokens allowed now (cached per matcher state; inside a string with
    /// length limits, the string's tokens without limits are cached and filtered).
    pub fn allowed(&mut self, trie: &TokenTrie, tokenizer: &Tokenizer) -> Arc<TokenSet> {
        match self.matcher.split_limits() {
            Some((free, limits)) => {
                let free = self.cached(trie, tokenizer, free);
                Arc::new(trie.limit(&free, limits))
            }
            None => self.cached(trie, tokenizer, self.matcher.clone()),
        }
    }

    /// The tokens allowed in `state`, from the cache or a walk of the trie.
    fn cached(&mut self, trie: &TokenTrie, tokenizer: &Tokenizer, state: Matcher) -> Arc<TokenSet> {
        if let Some(set) = self.cache.get(&state) {
            return set.clone();
        }
        let set = Arc::new(trie.allowed(tokenizer, &self.schema, &state));
        if self.cache.len() >= CACHE_STATES {
            self.cache.clear();
        }
        self.cache.insert(state, set.clone());
        set
    }

    /// Set the logit of every token not allowed now to `-inf`. With `remaining`
    /// tokens left, a token is allowed only if the value can still be completed in
    /// the rest (when the budget allows any completion at all), so a reply that
    /// runs long closes its JSON instead of being cut off.
    pub fn mask_logits(
        &mut self,
        trie: &TokenTrie,
        tokenizer: &Tokenizer,
        logits: &mut [f32],
        remaining: usize,
    ) -> Result<()> {
        let allowed = self.allowed(trie, tokenizer);
        let closing = remaining <= self.matcher.completion_len(&self.schema) + CLOSING_MARGIN;
        let fits = |id: u32| {
            let mut after = self.matcher.clone();
            after.feed_all(&self.schema, tokenizer.piece(id));
            after.completion_len(&self.schema) < remaining
        };
        let mut closing_set = TokenSet::new(logits.len());
        if closing {
            allowed
                .iter()
                .filter(|&id| fits(id))
                .for_each(|id| closing_set.insert(id));
        }
        let allowed = match closing_set.is_empty() {
            true => allowed.as_ref(),
            false => &closing_set,
        };
        if allowed.is_empty() {
            return Err(Error::Inference(
                "no token of the vocabulary can continue the JSON text".into(),
            ));
        }
        for (id, l) in logits.iter_mut().enumerate() {
            if !allowed.contains(id as u32) {
                *l = f32::NEG_INFINITY;
            }
        }
        Ok(())
    }

    /// Take the bytes of the chosen token; `false` if the schema does not allow them.
    pub fn advance(&mut self, bytes: &[u8]) -> bool {
        self.matcher.feed_all(&self.schema, bytes)
    }

    /// Whether the JSON value is complete and nothing may follow it.
    pub fn is_finished(&self) -> bool {
        self.matcher.is_finished()
    }
}
