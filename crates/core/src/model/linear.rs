//! A weight matrix as the forward pass uses it: on tandem's kernels (Q4_1, Q8_0) or on
//! candle's quantised matmuls (other formats), and products of several on one input.

use candle_core::quantized::QMatMul;
use candle_core::{Module, Tensor};

use crate::error::{Error, Result};
use crate::kernels::{Matrix, Q4_1Matrix, Q8_0Matrix, WeightBlock};

/// A quantised weight matrix: `y = x · Wᵀ`.
pub(super) enum Linear {
    /// On tandem's kernels.
    Q4_1(Q4_1Matrix),
    /// On tandem's kernels.
    Q8_0(Q8_0Matrix),
    /// Any other quantisation, on candle's.
    Candle(QMatMul),
}

impl Linear {
    /// `x` is `(seq, cols)`; returns `(seq, rows)`.
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [y] = Linear::forward_each([self], x)?;
        Ok(y)
    }

    /// [`Linear::forward`] of each of `ls` on the same `x`. When all are on tandem's
    /// kernels in one format, they run as one product ([`Matrix::matmul_each`]).
    pub(super) fn forward_each<const N: usize>(
        ls: [&Linear; N],
        x: &Tensor,
    ) -> Result<[Tensor; N]> {
        fn own<B: WeightBlock>(ms: &[&Matrix<B>], x: &Tensor) -> Result<Vec<Tensor>> {
            let seq = x.dim(0)?;
            let ys = Matrix::matmul_each(ms, &values(x)?);
            ms.iter()
                .zip(ys)
                .map(|(m, y)| Ok(Tensor::from_vec(y, (seq, m.rows()), x.device())?))
                .collect()
        }
        let ys = if let Some(ms) = ls.iter().map(|l| l.q4_1()).collect::<Option<Vec<_>>>() {
            own(&ms, x)?
        } else if let Some(ms) = ls.iter().map(|l| l.q8_0()).collect::<Option<Vec<_>>>() {
            own(&ms, x)?
        } else {
            // Mixed formats: one product each.
            ls.iter()
                .map(|l| match l {
                    Linear::Candle(m) => Ok(m.forward(x)?),
                    alone => alone.forward(x),
                })
                .collect::<Result<_>>()?
        };
        ys.try_into().map_err(|ys: Vec<Tensor>| {
            Error::Inference(format!("{} products where {N} were asked for", ys.len()))
        })
    }

    /// The matrix, when it is Q4_1 on tandem's kernels.
    fn q4_1(&self) -> Option<&Q4_1Matrix> {
        match self {
            Linear::Q4_1(m) => Some(m),
            _ => None,
        }
    }

    /// The matrix, when it is Q8_0 on tandem's kernels.
    fn q8_0(&self) -> Option<&Q8_0Matrix> {
        match self {
            Linear::Q8_0(m) => Some(m),
            _ => None,
        }
    }

    /// Row `r` of the weights, when they are on tandem's kernels (tied embeddings).
    pub(super) fn row(&self, r: usize) -> Option<Vec<f32>> {
        match self {
            Linear::Q4_1(m) => Some(m.row(r)),
            Linear::Q8_0(m) => Some(m.row(r)),
            Linear::Candle(_) => None,
        }
    }
}

/// The values of `t`, row-major.
pub(super) fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1()?)
}
