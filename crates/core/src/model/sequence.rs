//! One sequence's state apart from the weights: the keys and values of every block
//! and the tokens they belong to. The model keeps one for [`super::Model::forward`];
//! generations stepped together each own one.

use super::hparams::HyperParams;
use crate::error::{Error, Result};
use crate::kv_cache::KvCache;

/// The key/value caches of one sequence, one per block, and the tokens they hold at
/// positions `0..`. Made by [`super::Model::new_sequence`]; empty until a forward
/// pass writes it.
pub struct Sequence {
    caches: Vec<KvCache>,
    tokens: Vec<u32>,
}

impl Sequence {
    /// An empty sequence for a model of `hp`.
    pub(super) fn new(hp: &HyperParams) -> Self {
        Sequence {
            caches: (0..hp.layers)
                .map(|_| KvCache::new(hp.kv_heads, hp.head_dim))
                .collect(),
            tokens: Vec::new(),
        }
    }

    /// The tokens whose keys and values it holds, at positions `0..`.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// How many leading `tokens` it already holds, leaving at least the last one to
    /// run (its logits are not kept): run `tokens[n..]` at position `n`.
    pub fn reusable_prefix(&self, tokens: &[u32]) -> usize {
        let common = self
            .tokens
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count();
        common.min(tokens.len().saturating_sub(1))
    }

    /// Block `b`'s cache.
    pub(super) fn cache(&mut self, b: usize) -> &mut KvCache {
        &mut self.caches[b]
    }

    /// The caches, one per block.
    pub(super) fn caches(&mut self) -> &mut [KvCache] {
        &mut self.caches
    }

    /// The tokens it holds, to extend after a forward pass or cut back before one.
    pub(super) fn tokens_mut(&mut self) -> &mut Vec<u32> {
        &mut self.tokens
    }

    /// An error unless it was made for a model of `hp`.
    pub(super) fn check(&self, hp: &HyperParams) -> Result<()> {
        let fits = self.caches.len() == hp.layers
            && self
                .caches
                .first()
                .is_none_or(|c| c.kv_heads() == hp.kv_heads && c.head_dim() == hp.head_dim);
        match fits {
            true => Ok(()),
            false => Err(Error::Inference(
                "the sequence was made for another model".into(),
            )),
        }
    }
}
