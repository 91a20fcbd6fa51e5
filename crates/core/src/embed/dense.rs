//! A dense layer, `y = x · Wᵀ + b`. f32 weights (any float format, widened) in
//! panels (`panels.rs`). Q8_0 weights on tandem's kernels, with their
//! activations quantised to Q8_1 per 32 values, as llama.cpp does, but twice:
//! `x · Wᵀ = q(x) · Wᵀ + q(x − q(x)) · Wᵀ`, the second product carrying what the
//! first rounding lost. With one pass the Q8_0 model's vectors for the shortest inputs
//! (2–4 tokens) fall to a cosine of 0.998 against the float64 reference; with two
//! every one stays above 0.999.

use super::panels::Panels;
use crate::error::{Error, Result};
use crate::kernels::{quantize_q8_1, BlockQ8_1, Q8_0Matrix, QK};

/// A dense layer's weight matrix, `(rows, cols)`.
pub(super) enum Weight {
    /// f32 (from F32, F16 or any other format candle reads).
    F32(Panels),
    /// Q8_0.
    Q8_0(Q8_0Matrix),
}

/// A weight matrix and its bias.
pub(super) struct Dense {
    weight: Weight,
    bias: Vec<f32>,
    rows: usize,
}

impl Dense {
    pub(super) fn new(weight: Weight, bias: Vec<f32>, rows: usize) -> Self {
        Dense { weight, bias, rows }
    }

    /// `x` is `(n, cols)` row-major; returns `x · Wᵀ + b`, `(n, rows)`.
    pub(super) fn forward(&self, x: &[f32]) -> Result<Vec<f32>> {
        let mut y = match &self.weight {
            Weight::Q8_0(_) => return Self::forward_each([self], x).map(|[y]| y),
            Weight::F32(w) => w.product(x),
        };
        self.add_bias(&mut y);
        Ok(y)
    }

    /// [`Dense::forward`] of each of `ds` on the same `x`; Q8_0 ones as one product
    /// (`x` quantised once, with its residual).
    pub(super) fn forward_each<const N: usize>(
        ds: [&Dense; N],
        x: &[f32],
    ) -> Result<[Vec<f32>; N]> {
        let q8: Option<Vec<&Q8_0Matrix>> = (ds.iter())
            .map(|d| match &d.weight {
                Weight::Q8_0(m) => Some(m),
                Weight::F32(_) => None,
            })
            .collect();
        let ys: Vec<Vec<f32>> = match q8 {
            Some(ms) => (Q8_0Matrix::matmul_each(&ms, &with_residual(x)).into_iter())
                .zip(ds)
                .map(|(y, d)| {
                    let mut y = summed(y, d.rows);
                    d.add_bias(&mut y);
                    y
                })
                .collect(),
            None => ds.iter().map(|d| d.forward(x)).collect::<Result<_>>()?,
        };
        ys.try_into().map_err(|ys: Vec<Vec<f32>>| {
            Error::Inference(format!("{} products where {N} were asked for", ys.len()))
        })
    }

    fn add_bias(&self, y: &mut [f32]) {
        for row in y.chunks_exact_mut(self.rows) {
            row.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b);
        }
    }
}

/// `x`'s `n` rows (of a multiple of 32 values), then the `n` rows of what their Q8_1
/// quantisation rounds away.
fn with_residual(x: &[f32]) -> Vec<f32> {
    let mut blocks = vec![BlockQ8_1::default(); x.len() / QK];
    quantize_q8_1(x, &mut blocks);
    let mut out = Vec::with_capacity(2 * x.len());
    out.extend_from_slice(x);
    for (xs, b) in x.chunks_exact(QK).zip(&blocks) {
        out.extend(xs.iter().zip(&b.qs).map(|(x, &q)| x - q as f32 * b.d));
    }
    out
}

/// The sum of the two halves of `y` (`2n` rows of `rows`): the products of the rows
/// and of their residuals.
fn summed(mut y: Vec<f32>, rows: usize) -> Vec<f32> {
    let half = y.len() / 2 / rows * rows;
    let (values, residuals) = y.split_at_mut(half);
    values
        .iter_mut()
        .zip(&*residuals)
        .for_each(|(v, r)| *v += r);
    y.truncate(half);
    y
}
