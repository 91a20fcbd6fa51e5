//! One transformer block: its weights, its key/value cache, and grouped-query
//! self-attention over that cache.

use candle_core::Tensor;

use super::hparams::HyperParams;
use super::linear::{values, Linear};
use crate::attention::attend;
use crate::error::Result;
use crate::kv_cache::KvCache;

/// One transformer block with its key/value cache.
pub(super) struct Block {
    pub(super) attn_norm: Tensor,
    pub(super) q: Linear,
    pub(super) k: Linear,
    pub(super) v: Linear,
    pub(super) o: Linear,
    pub(super) ffn_norm: Tensor,
    pub(super) gate: Linear,
    pub(super) up: Linear,
    pub(super) down: Linear,
    pub(super) cache: KvCache,
}

impl Block {
    /// Grouped-query self-attention of `h` (`(seq, embedding)`, at positions `pos..`)
    /// over the cache, which takes the new keys and values.
    pub(super) fn attention(
        &mut self,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        pos: usize,
        hp: &HyperParams,
    ) -> Result<Tensor> {
        let seq = h.dim(0)?;
        let hd = hp.head_dim();
        // (seq, heads * hd) -> (1, heads, seq, hd), then rotated.
        let heads = |t: Tensor, n: usize| -> Result<Tensor> {
            Ok(t.reshape((1, seq, n, hd))?.transpose(1, 2)?.contiguous()?)
        };
        let [q, k, v] = Linear::forward_each([&self.q, &self.k, &self.v], h)?;
        let q = heads(q, hp.heads)?;
        let k = heads(k, hp.kv_heads)?;
        let v = heads(v, hp.kv_heads)?;
        let q = candle_nn::rotary_emb::rope_i(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope_i(&k, cos, sin)?;
        self.cache
            .write(&values(&k)?, &values(&v)?, pos, hp.context);
        let y = attend(&values(&q)?, hp.heads, pos, &self.cache);
        let y = Tensor::from_vec(y, (seq, hp.embedding), h.device())?;
        self.o.forward(&y)
    }
}
