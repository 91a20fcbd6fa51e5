//! One transformer block: its weights, grouped-query self-attention over a
//! sequence's key/value cache, and the feed-forward network.

use candle_core::Tensor;
use candle_nn::rotary_emb::rope_i;
use rayon::prelude::*;

use super::hparams::HyperParams;
use super::linear::{values, Linear};
use crate::activations::silu_mul;
use crate::attention::attend;
use crate::error::Result;
use crate::kernels::PARALLEL;
use crate::kv_cache::KvCache;

/// One transformer block's weights.
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
}

impl Block {
    /// Grouped-query self-attention of `h` (`(seq, embedding)`, one sequence's tokens
    /// at positions `pos..`, rotated by `cos`/`sin` of those positions) over `cache`,
    /// which takes the new keys and values.
    pub(super) fn attention(
        &self,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        pos: usize,
        cache: &mut KvCache,
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
        let q = rope_i(&q, cos, sin)?;
        let k = rope_i(&k, cos, sin)?;
        cache.write(&values(&k)?, &values(&v)?, pos, hp.context);
        let y = attend(&values(&q)?, hp.heads, pos, cache);
        let y = Tensor::from_vec(y, (seq, hp.embedding), h.device())?;
        self.o.forward(&y)
    }

    /// [`Block::attention`] of each row of `h` (`(n, embedding)`) as one token of its
    /// own sequence: row `i` at the position and over the cache of `rows`' item `i`,
    /// rotated by row `i` of `cos`/`sin` (`(n, 1, head_dim / 2)`). The products run
    /// on all rows at once; keys, values and attention row by row (rows shared over
    /// the threads), each as [`Block::attention`] does for one token.
    pub(super) fn attention_rows<'a>(
        &self,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        rows: impl Iterator<Item = (usize, &'a mut KvCache)>,
        hp: &HyperParams,
    ) -> Result<Tensor> {
        let n = h.dim(0)?;
        let hd = hp.head_dim();
        // (n, heads * hd) -> (n, heads, 1, hd): each row is a batch of one token, so
        // that each is rotated by its own row of the tables.
        let [q, k, v] = Linear::forward_each([&self.q, &self.k, &self.v], h)?;
        let q = values(&rope_i(&q.reshape((n, hp.heads, 1, hd))?, cos, sin)?)?;
        let k = values(&rope_i(&k.reshape((n, hp.kv_heads, 1, hd))?, cos, sin)?)?;
        let v = values(&v)?;
        let (q_width, kv_width) = (hp.heads * hd, hp.kv_heads * hd);
        let mut y = vec![0f32; n * hp.embedding];
        // Each row on its own cache, so the rows are shared out over the threads.
        let rows: Vec<_> = rows
            .zip(y.chunks_exact_mut(hp.embedding))
            .enumerate()
            .collect();
        let row = |(i, ((pos, cache), y)): (usize, ((usize, &mut KvCache), &mut [f32]))| {
            let kv = i * kv_width..(i + 1) * kv_width;
            cache.write(&k[kv.clone()], &v[kv], pos, hp.context);
            y.copy_from_slice(&attend(&q[i * q_width..][..q_width], hp.heads, pos, cache));
        };
        match PARALLEL {
            true => rows.into_par_iter().for_each(row),
            false => rows.into_iter().for_each(row),
        }
        let y = Tensor::from_vec(y, (n, hp.embedding), h.device())?;
        self.o.forward(&y)
    }

    /// The feed-forward network of `h` (`(seq, embedding)`, normed), row by row.
    pub(super) fn feed_forward(&self, h: &Tensor) -> Result<Tensor> {
        let [gate, up] = Linear::forward_each([&self.gate, &self.up], h)?;
        let gated = silu_mul(&values(&gate)?, &values(&up)?);
        let gated = Tensor::from_vec(gated, gate.shape(), h.device())?;
        self.down.forward(&gated)
    }
}
