//! The forward pass: a sequence's new tokens, or one new token for each of several
//! sequences at once. Every step is computed row by row (the products' rows, the
//! norms, the rotations, the attention), so a token's logits are the same bits
//! whichever way it runs.

use candle_core::Tensor;

use super::linear::values;
use super::sequence::Sequence;
use super::weights::Weights;
use crate::error::Result;

impl Weights {
    /// Run `tokens`, at positions `pos..`, through the model, writing their keys and
    /// values into `sequence` at `pos..`; returns the logits of the last token.
    pub(super) fn run(
        &self,
        sequence: &mut Sequence,
        tokens: &[u32],
        pos: usize,
    ) -> Result<Vec<f32>> {
        let seq = tokens.len();
        let hp = &self.hparams;
        let mut x = self.embed(tokens)?;
        let cos = self.cos.narrow(0, pos, seq)?;
        let sin = self.sin.narrow(0, pos, seq)?;
        for (block, cache) in self.blocks.iter().zip(sequence.caches()) {
            let h = rms_norm(&x, &block.attn_norm, hp.rms_eps)?;
            x = (x + block.attention(&h, &cos, &sin, pos, cache, hp)?)?;
            let h = rms_norm(&x, &block.ffn_norm, hp.rms_eps)?;
            x = (x + block.feed_forward(&h)?)?;
        }
        self.logits(&x.narrow(0, seq - 1, 1)?)
    }

    /// Run `tokens[i]` at the end of `sequences[i]`, for every `i`, as one batch: one
    /// product per weight matrix for all of them; returns each token's logits.
    pub(super) fn run_batch(
        &self,
        sequences: &mut [&mut Sequence],
        tokens: &[u32],
    ) -> Result<Vec<Vec<f32>>> {
        let n = tokens.len();
        let hp = &self.hparams;
        let positions: Vec<usize> = sequences.iter().map(|s| s.tokens().len()).collect();
        let mut x = self.embed(tokens)?;
        // Each row's rotary tables, `(n, 1, head_dim / 2)`.
        let at = Tensor::from_iter(positions.iter().map(|&p| p as u32), &self.device)?;
        let table = |t: &Tensor| -> Result<Tensor> {
            Ok(t.index_select(&at, 0)?.reshape((n, 1, hp.head_dim() / 2))?)
        };
        let (cos, sin) = (table(&self.cos)?, table(&self.sin)?);
        for (b, block) in self.blocks.iter().enumerate() {
            let h = rms_norm(&x, &block.attn_norm, hp.rms_eps)?;
            let rows = positions
                .iter()
                .zip(sequences.iter_mut())
                .map(|(&pos, s)| (pos, s.cache(b)));
            x = (x + block.attention_rows(&h, &cos, &sin, rows, hp)?)?;
            let h = rms_norm(&x, &block.ffn_norm, hp.rms_eps)?;
            x = (x + block.feed_forward(&h)?)?;
        }
        let logits = self.logits(&x)?;
        Ok(logits
            .chunks_exact(logits.len() / n)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// The logits of each row of `x` (the residual stream), `(rows, vocab)` row-major.
    fn logits(&self, x: &Tensor) -> Result<Vec<f32>> {
        let x = rms_norm(x, &self.norm, self.hparams.rms_eps)?;
        values(&self.output.forward(&x)?)
    }
}

/// RMS norm of each row of `x`, times `weight`.
fn rms_norm(x: &Tensor, weight: &Tensor, eps: f32) -> Result<Tensor> {
    Ok(candle_nn::ops::rms_norm(x, weight, eps)?)
}
