//! Rotary position embeddings as llama.cpp computes them: pair `i`'s angle at
//! position `p` is `p · base^(-2/d)` multiplied `i` times (each power from the last,
//! in f32), divided by the pair's factor where the model has them (Llama 3), its cos
//! and sin (glibc's, [`sincos`]) computed per position when a forward pass asks.

use candle_core::{Device, Tensor};
use candle_nn::rotary_emb::{rope, rope_i};

use super::hparams::RopeLayout;
use super::sincos;
use crate::error::Result;

/// The rotation of one kind of layer: its frequencies and its pairs.
pub(super) struct Rotary {
    /// `base^(-2 / head_dim)`.
    theta_scale: f32,
    /// Pairs per head.
    half: usize,
    layout: RopeLayout,
    /// Each pair's angle is divided by its factor (`rope_freqs.weight`).
    factors: Option<Vec<f32>>,
}

/// The cos and sin of every pair at some positions, `(positions, head_dim / 2)`.
pub(super) struct Angles {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    /// The rotation of heads of `head_dim` values at frequencies of `base`, each
    /// pair's angle divided by its item of `factors` (`head_dim / 2` of them).
    pub(super) fn new(
        base: f32,
        head_dim: usize,
        layout: RopeLayout,
        factors: Option<Vec<f32>>,
    ) -> Self {
        Rotary {
            theta_scale: base.powf(-2.0 / head_dim as f32),
            half: head_dim / 2,
            layout,
            factors,
        }
    }

    /// The angles of `positions`.
    pub(super) fn angles(
        &self,
        positions: impl ExactSizeIterator<Item = usize>,
        device: &Device,
    ) -> Result<Angles> {
        let n = positions.len();
        let (mut cos, mut sin) = (Vec::with_capacity(n * self.half), Vec::new());
        sin.reserve(n * self.half);
        for p in positions {
            let mut theta = p as f32;
            for i in 0..self.half {
                let angle = match &self.factors {
                    Some(factors) => theta / factors[i],
                    None => theta,
                };
                cos.push(sincos::cos(angle));
                sin.push(sincos::sin(angle));
                theta *= self.theta_scale;
            }
        }
        Ok(Angles {
            cos: Tensor::from_vec(cos, (n, self.half), device)?,
            sin: Tensor::from_vec(sin, (n, self.half), device)?,
        })
    }

    /// `x` (`(1, heads, seq, head_dim)`, one sequence's tokens) rotated by the
    /// angles of its positions (`(seq, head_dim / 2)`).
    pub(super) fn rotate(&self, x: &Tensor, angles: &Angles) -> Result<Tensor> {
        self.apply(x, &angles.cos, &angles.sin)
    }

    /// `x` (`(n, heads, 1, head_dim)`, one token of each of `n` sequences) rotated
    /// row by row, row `i` by angle row `i`.
    pub(super) fn rotate_rows(&self, x: &Tensor, angles: &Angles) -> Result<Tensor> {
        let n = x.dim(0)?;
        let rows = |t: &Tensor| t.reshape((n, 1, self.half));
        self.apply(x, &rows(&angles.cos)?, &rows(&angles.sin)?)
    }

    fn apply(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        Ok(match self.layout {
            RopeLayout::Interleaved => rope_i(x, cos, sin)?,
            RopeLayout::Halves => rope(x, cos, sin)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_divide_each_pairs_angle() {
        let angles = |factors| {
            let rotary = Rotary::new(100.0, 4, RopeLayout::Interleaved, factors);
            let a = rotary.angles([3usize].into_iter(), &Device::Cpu).unwrap();
            a.sin.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        // Pair 0 turns by 3, pair 1 by 3 · 100^(-1/2) = 0.3.
        let plain = angles(None);
        let scaled = angles(Some(vec![1.0, 4.0]));
        assert_eq!(plain[0], scaled[0]);
        assert_eq!(scaled[0], sincos::sin(3.0));
        assert!((plain[1] - 0.3f32.sin()).abs() < 1e-6);
        assert!((scaled[1] - 0.075f32.sin()).abs() < 1e-6);
    }
}
