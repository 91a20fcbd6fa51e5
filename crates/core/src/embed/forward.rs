//! The encoder's forward pass over a padded batch: embeddings (word + position +
//! token type 0) and LayerNorm; per layer, bidirectional self-attention in which each
//! sequence's tokens see its own tokens only (the padding is masked out), the output
//! dense + residual + LayerNorm, then the GELU (erf) feed-forward + residual +
//! LayerNorm; finally each sequence's tokens pooled into its unit vector.

use super::config::EncoderConfig;
use super::dense::Dense;
use super::erf::erf;
use super::search::{dot, sum_of};
use super::weights::{EncoderWeights, LayerNorm};
use crate::error::Result;
use crate::kernels::PARALLEL;

/// The unit vectors of `seqs` (token ids, each at most `config.window` long), run as
/// one batch padded to the longest.
pub(super) fn encode(
    w: &EncoderWeights,
    c: &EncoderConfig,
    seqs: &[&[u32]],
) -> Result<Vec<Vec<f32>>> {
    let width = c.width;
    let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    // (batch × len, width): sequence b's token t is row b * len + t; padding rows stay
    // zero until the first LayerNorm, and are never seen by the real rows.
    let mut x = vec![0f32; seqs.len() * len * width];
    for (rows, seq) in x.chunks_exact_mut(len * width).zip(seqs) {
        for (t, (row, &id)) in rows.chunks_exact_mut(width).zip(*seq).enumerate() {
            w.words.add_row(id as usize, row);
            let pos = &w.positions[t * width..][..width];
            for ((o, p), ty) in row.iter_mut().zip(pos).zip(&w.token_type) {
                *o += p + ty;
            }
        }
    }
    layer_norm(&mut x, &w.norm, c.eps);
    let lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
    for layer in &w.layers {
        let [q, k, v] = Dense::forward_each([&layer.q, &layer.k, &layer.v], &x)?;
        let ctx = attention(&q, &k, &v, &lens, len, c);
        let mut a = layer.attn_out.forward(&ctx)?;
        a.iter_mut().zip(&x).for_each(|(a, x)| *a += x);
        layer_norm(&mut a, &layer.attn_norm, c.eps);
        x = a;
        let mut h = layer.up.forward(&x)?;
        h.iter_mut().for_each(|h| *h = gelu(*h));
        let mut o = layer.down.forward(&h)?;
        o.iter_mut().zip(&x).for_each(|(o, x)| *o += x);
        layer_norm(&mut o, &layer.out_norm, c.eps);
        x = o;
    }
    Ok(x.chunks_exact(len * width)
        .zip(&lens)
        .map(|(rows, &n)| c.pooling.pool(&rows[..n * width], width))
        .collect())
}

/// GELU with erf, as BERT's `gelu`: `x/2 · (1 + erf(x/√2))`.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Each row of `x` normalised to mean 0 and variance 1 (`eps` added), scaled and shifted.
fn layer_norm(x: &mut [f32], norm: &LayerNorm, eps: f32) {
    let width = norm.weight.len();
    for row in x.chunks_exact_mut(width) {
        let mean = sum_of(row, |v| v) / width as f32;
        let var = sum_of(row, |v| (v - mean) * (v - mean)) / width as f32;
        let scale = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *v = (*v - mean) * scale * w + b;
        }
    }
}

/// Multi-head attention of each sequence over its own `lens[b]` tokens (rows of
/// padding neither attend nor are attended to; their output rows stay zero), each
/// sequence on a thread of its own where products are shared out.
fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    lens: &[usize],
    len: usize,
    c: &EncoderConfig,
) -> Vec<f32> {
    let width = c.width;
    let mut ctx = vec![0f32; q.len()];
    let one = |(b, out): (usize, &mut [f32])| {
        let span = b * len * width..(b + 1) * len * width;
        sequence_attention(
            &q[span.clone()],
            &k[span.clone()],
            &v[span],
            lens[b],
            out,
            c,
        );
    };
    if PARALLEL {
        use rayon::prelude::*;
        ctx.par_chunks_mut(len * width).enumerate().for_each(one);
    } else {
        ctx.chunks_mut(len * width).enumerate().for_each(one);
    }
    ctx
}

/// One sequence's attention: `n` real rows of `(len, width)` q, k, v into `out`.
fn sequence_attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    n: usize,
    out: &mut [f32],
    c: &EncoderConfig,
) {
    let (width, d) = (c.width, c.width / c.heads);
    let scale = 1.0 / (d as f32).sqrt();
    let mut scores = vec![0f32; n];
    for h in 0..c.heads {
        let head = h * d..(h + 1) * d;
        for i in 0..n {
            let qi = &q[i * width..][head.clone()];
            let mut max = f32::NEG_INFINITY;
            for (j, s) in scores.iter_mut().enumerate() {
                let kj = &k[j * width..][head.clone()];
                *s = dot(qi, kj) * scale;
                max = max.max(*s);
            }
            let mut sum = 0.0;
            for s in scores.iter_mut() {
                *s = (*s - max).exp();
                sum += *s;
            }
            let o = &mut out[i * width..][head.clone()];
            for (j, s) in scores.iter().enumerate() {
                let p = s / sum;
                let vj = &v[j * width..][head.clone()];
                o.iter_mut().zip(vj).for_each(|(o, v)| *o += p * v);
            }
        }
    }
}
