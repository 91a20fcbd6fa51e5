//! The forward pass: a sequence's new tokens, or one new token for each of several
//! sequences at once. Every step is computed row by row (the products' rows, the
//! norms, the rotations, the attention), so a token's logits are the same bits
//! whichever way it runs.

use candle_core::Tensor;

use super::linear::values;
use super::rotary::Angles;
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
        let angles = self.angles(pos..pos + seq)?;
        let mut x = self.embed(tokens)?;
        for (block, cache) in self.blocks.iter().zip(sequence.caches()) {
            let rotation = (&self.rotaries[block.rotary], &angles[block.rotary]);
            x = block.forward(x, hp, |h| block.attention(h, rotation, pos, cache, hp))?;
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
        let angles = self.angles(positions.iter().copied())?;
        let mut x = self.embed(tokens)?;
        for (b, block) in self.blocks.iter().enumerate() {
            let rotation = (&self.rotaries[block.rotary], &angles[block.rotary]);
            let rows = positions
                .iter()
                .zip(sequences.iter_mut())
                .map(|(&pos, s)| (pos, s.cache(b)));
            x = block.forward(x, hp, |h| block.attention_rows(h, rotation, rows, hp))?;
        }
        let logits = self.logits(&x)?;
        Ok(logits
            .chunks_exact(logits.len() / n)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// Each rotation's angles at `positions`.
    fn angles(
        &self,
        positions: impl ExactSizeIterator<Item = usize> + Clone,
    ) -> Result<Vec<Angles>> {
        self.rotaries
            .iter()
            .map(|r| r.angles(positions.clone(), &self.device))
            .collect()
    }

    /// The logits of each row of `x` (the residual stream), `(rows, vocab)` row-major.
    fn logits(&self, x: &Tensor) -> Result<Vec<f32>> {
        let x = self.norm.forward(x, self.hparams.rms_eps)?;
        values(&self.output.forward(&x)?)
    }
}
