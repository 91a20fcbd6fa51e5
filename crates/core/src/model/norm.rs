//! RMS norm as candle computes it: each row's mean square summed in f32, the row
//! divided by `sqrt(mean + eps)`, then multiplied by the weights. (llama.cpp sums in
//! f64 and multiplies by the reciprocal; over both reference models that moved more
//! greedy steps off llama.cpp's picks than this, so this stays.)

use candle_core::Tensor;

use super::linear::values;
use crate::error::Result;

/// An RMS norm's weights; it norms every `weights.len()`-wide row of its input.
pub(super) struct RmsNorm {
    weights: Vec<f32>,
}

impl RmsNorm {
    pub(super) fn new(weights: Vec<f32>) -> Self {
        RmsNorm { weights }
    }

    /// Every row of `x` (any shape whose values are whole rows) normed.
    pub(super) fn forward(&self, x: &Tensor, eps: f32) -> Result<Tensor> {
        let mut v = values(x)?;
        self.apply(&mut v, eps);
        Ok(Tensor::from_vec(v, x.shape(), x.device())?)
    }

    /// Every row of `v` normed in place.
    fn apply(&self, v: &mut [f32], eps: f32) {
        let n = self.weights.len();
        for row in v.chunks_exact_mut(n) {
            let sum: f32 = row.iter().map(|x| x * x).sum();
            let m = (sum / n as f32 + eps).sqrt();
            for (x, w) in row.iter_mut().zip(&self.weights) {
                *x = *x / m * w;
            }
        }
    }
}
