//! One transformer block: its weights, grouped-query self-attention over a
//! sequence's key/value cache, and the feed-forward network, each with the parts its
//! family has (q/k/v biases, per-head q/k norms, norms after attention and the
//! network).

use candle_core::Tensor;
use rayon::prelude::*;

use super::hparams::{Activation, HyperParams};
use super::linear::{values, Linear};
use super::norm::RmsNorm;
use super::rotary::{Angles, Rotary};
use crate::activations::{gelu_mul, silu_mul};
use crate::attention::attend;
use crate::error::Result;
use crate::kernels::PARALLEL;
use crate::kv_cache::KvCache;

/// One transformer block's weights.
pub(super) struct Block {
    pub(super) attn_norm: RmsNorm,
    pub(super) q: Linear,
    pub(super) k: Linear,
    pub(super) v: Linear,
    pub(super) o: Linear,
    /// Biases of the query, key and value products.
    pub(super) qkv_bias: Option<[Tensor; 3]>,
    /// Per-head norms of queries and keys, before rotation.
    pub(super) qk_norms: Option<[RmsNorm; 2]>,
    /// Norm of the attention's output.
    pub(super) post_attention_norm: Option<RmsNorm>,
    pub(super) ffn_norm: RmsNorm,
    pub(super) gate: Linear,
    pub(super) up: Linear,
    pub(super) down: Linear,
    /// Norm of the feed-forward network's output.
    pub(super) post_ffn_norm: Option<RmsNorm>,
    /// The positions a query sees, in a sliding-window block.
    pub(super) window: Option<usize>,
    /// Which of the model's rotations this block's queries and keys take.
    pub(super) rotary: usize,
}

impl Block {
    /// The block's residual update of `x` (`(seq, embedding)`): attention by `attend`
    /// of the normed `x`, then the feed-forward network.
    pub(super) fn forward(
        &self,
        x: Tensor,
        hp: &HyperParams,
        attend: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let eps = hp.rms_eps;
        let post = |norm: &Option<RmsNorm>, y: Tensor| match norm {
            Some(norm) => norm.forward(&y, eps),
            None => Ok(y),
        };
        let y = attend(&self.attn_norm.forward(&x, eps)?)?;
        let x = (x + post(&self.post_attention_norm, y)?)?;
        let y = self.feed_forward(&self.ffn_norm.forward(&x, eps)?, hp.style.activation)?;
        Ok((x + post(&self.post_ffn_norm, y)?)?)
    }

    /// Queries, keys and values of `h` (`(rows, embedding)`, normed), with their
    /// biases added and the queries and keys normed per head where the family has
    /// them, not yet rotated.
    fn qkv(&self, h: &Tensor, hp: &HyperParams) -> Result<[Tensor; 3]> {
        let [mut q, mut k, mut v] = Linear::forward_each([&self.q, &self.k, &self.v], h)?;
        if let Some([q_bias, k_bias, v_bias]) = &self.qkv_bias {
            q = q.broadcast_add(q_bias)?;
            k = k.broadcast_add(k_bias)?;
            v = v.broadcast_add(v_bias)?;
        }
        if let Some([q_norm, k_norm]) = &self.qk_norms {
            q = q_norm.forward(&q, hp.rms_eps)?;
            k = k_norm.forward(&k, hp.rms_eps)?;
        }
        Ok([q, k, v])
    }

    /// Grouped-query self-attention of `h` (`(seq, embedding)`, one sequence's tokens
    /// at positions `pos..`, rotated by `rotary` at `angles` of those positions) over
    /// `cache`, which takes the new keys and values.
    pub(super) fn attention(
        &self,
        h: &Tensor,
        (rotary, angles): (&Rotary, &Angles),
        pos: usize,
        cache: &mut KvCache,
        hp: &HyperParams,
    ) -> Result<Tensor> {
        let seq = h.dim(0)?;
        let hd = hp.head_dim;
        // (seq, heads * hd) -> (1, heads, seq, hd), then rotated.
        let heads = |t: Tensor, n: usize| -> Result<Tensor> {
            Ok(t.reshape((1, seq, n, hd))?.transpose(1, 2)?.contiguous()?)
        };
        let [q, k, v] = self.qkv(h, hp)?;
        let q = rotary.rotate(&heads(q, hp.heads)?, angles)?;
        let k = rotary.rotate(&heads(k, hp.kv_heads)?, angles)?;
        let v = heads(v, hp.kv_heads)?;
        cache.write(&values(&k)?, &values(&v)?, pos, hp.context);
        let y = attend(&values(&q)?, hp.heads, pos, cache, self.window);
        let y = Tensor::from_vec(y, (seq, hp.heads * hd), h.device())?;
        self.o.forward(&y)
    }

    /// [`Block::attention`] of each row of `h` (`(n, embedding)`) as one token of its
    /// own sequence: row `i` at the position and over the cache of `rows`' item `i`,
    /// rotated by row `i` of `angles`. The products run on all rows at once; keys,
    /// values and attention row by row (rows shared over the threads), each as
    /// [`Block::attention`] does for one token.
    pub(super) fn attention_rows<'a>(
        &self,
        h: &Tensor,
        (rotary, angles): (&Rotary, &Angles),
        rows: impl Iterator<Item = (usize, &'a mut KvCache)>,
        hp: &HyperParams,
    ) -> Result<Tensor> {
        let n = h.dim(0)?;
        let hd = hp.head_dim;
        // (n, heads * hd) -> (n, heads, 1, hd): each row is a batch of one token, so
        // that each is rotated by its own row of the angles.
        let [q, k, v] = self.qkv(h, hp)?;
        let q = values(&rotary.rotate_rows(&q.reshape((n, hp.heads, 1, hd))?, angles)?)?;
        let k = values(&rotary.rotate_rows(&k.reshape((n, hp.kv_heads, 1, hd))?, angles)?)?;
        let v = values(&v)?;
        let (q_width, kv_width) = (hp.heads * hd, hp.kv_heads * hd);
        let mut y = vec![0f32; n * q_width];
        // Each row on its own cache, so the rows are shared out over the threads.
        let rows: Vec<_> = rows.zip(y.chunks_exact_mut(q_width)).enumerate().collect();
        let row = |(i, ((pos, cache), y)): (usize, ((usize, &mut KvCache), &mut [f32]))| {
            let kv = i * kv_width..(i + 1) * kv_width;
            cache.write(&k[kv.clone()], &v[kv], pos, hp.context);
            let q = &q[i * q_width..][..q_width];
            y.copy_from_slice(&attend(q, hp.heads, pos, cache, self.window));
        };
        match PARALLEL {
            true => rows.into_par_iter().for_each(row),
            false => rows.into_iter().for_each(row),
        }
        let y = Tensor::from_vec(y, (n, q_width), h.device())?;
        self.o.forward(&y)
    }

    /// The feed-forward network of `h` (`(seq, embedding)`, normed), row by row.
    fn feed_forward(&self, h: &Tensor, activation: Activation) -> Result<Tensor> {
        let [gate, up] = Linear::forward_each([&self.gate, &self.up], h)?;
        let (g, u) = (values(&gate)?, values(&up)?);
        let gated = match activation {
            Activation::Silu => silu_mul(&g, &u),
            Activation::GeluTanh => gelu_mul(&g, &u),
        };
        let gated = Tensor::from_vec(gated, gate.shape(), h.device())?;
        self.down.forward(&gated)
    }
}
