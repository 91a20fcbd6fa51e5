//! A dense layer, `y = x · Wᵀ + b`. f32 weights (any float format, widened): a
//! batch of rows on candle's gemm, a few rows (a query) as plain dot products over
//! the weights, which gemm would spend most of its time packing (7.3 vs 4.5 ms for a
//! one-sentence query natively). Q8_0 weights on tandem's kernels, with their
//! activations quantised to Q8_1 per 32 values, as llama.cpp does, but twice:
//! `x · Wᵀ = q(x) · Wᵀ + q(x − q(x)) · Wᵀ`, the second product carrying what the
//! first rounding lost. With one pass the Q8_0 model's vectors for the shortest inputs
//! (2–4 tokens) fall to a cosine of 0.998 against the float64 reference; with two
//! every one stays above 0.999.

use candle_core::{CpuStorage, Device, Storage, Tensor};

use super::search::dot;
use crate::error::{Error, Result};
use crate::kernels::{quantize_q8_1, BlockQ8_1, Q8_0Matrix, QK};

/// Most activation rows taken as plain dot products; more go to gemm.
const FEW_ROWS: usize = 16;

/// A dense layer's weight matrix, `(rows, cols)`.
pub(super) enum Weight {
    /// f32 (from F32, F16 or any other format candle reads), row-major.
    F32(Tensor),
    /// Q8_0.
    Q8_0(Q8_0Matrix),
}

/// A weight matrix and its bias.
pub(super) struct Dense {
    weight: Weight,
    bias: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl Dense {
    pub(super) fn new(weight: Weight, bias: Vec<f32>, rows: usize, cols: usize) -> Self {
        Dense {
            weight,
            bias,
            rows,
            cols,
        }
    }

    /// `x` is `(n, cols)` row-major; returns `x · Wᵀ + b`, `(n, rows)`.
    pub(super) fn forward(&self, x: &[f32]) -> Result<Vec<f32>> {
        let mut y = match &self.weight {
            Weight::Q8_0(_) => return Self::forward_each([self], x).map(|[y]| y),
            Weight::F32(w) if x.len() <= FEW_ROWS * self.cols => few_rows(w, x, self.cols)?,
            Weight::F32(w) => {
                let n = x.len() / self.cols;
                let x = Tensor::from_slice(x, (n, self.cols), &Device::Cpu)?;
                x.matmul(&w.t()?)?.flatten_all()?.to_vec1::<f32>()?
            }
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

/// `x · wᵀ` for a few rows of `x` (`cols` each): each weight row's dot product with
/// each of them, `(n, rows)` row-major.
fn few_rows(w: &Tensor, x: &[f32], cols: usize) -> Result<Vec<f32>> {
    let (storage, layout) = w.storage_and_layout();
    let weights = match (&*storage, layout.contiguous_offsets()) {
        (Storage::Cpu(CpuStorage::F32(values)), Some((from, to))) => &values[from..to],
        _ => {
            return Err(Error::Inference(
                "a dense layer's weights are not f32 in memory".into(),
            ))
        }
    };
    let n = x.len() / cols;
    let rows = weights.len() / cols;
    let mut y = vec![0f32; n * rows];
    for (r, row) in weights.chunks_exact(cols).enumerate() {
        for (i, xs) in x.chunks_exact(cols).enumerate() {
            y[i * rows + r] = dot(row, xs);
        }
    }
    Ok(y)
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
