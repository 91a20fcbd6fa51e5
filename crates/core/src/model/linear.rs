//! A weight matrix as the forward pass uses it: on tandem's kernels (Q4_0, Q4_1, Q5_0,
//! Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, F16, BF16, F32) or on candle's quantised matmuls
//! (other formats), and products of several on one input.

use candle_core::quantized::{GgmlDType, QMatMul};
use candle_core::{Module, Tensor};

use crate::error::{Error, Result};
use crate::kernels::{
    BlockBF16, BlockF16, BlockF32, BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K,
    BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0, Matrix, MatrixBuilder, WeightBlock,
};

/// The formats on tandem's kernels: a [`Linear`] variant per format, and the code
/// that picks, multiplies and reads them, written once for all.
macro_rules! own_formats {
    ($($format:ident: $block:ty),* $(,)?) => {
        /// A weight matrix: `y = x · Wᵀ`.
        pub(super) enum Linear {
            $(
                #[doc = concat!("A ", stringify!($format), " matrix on tandem's kernels.")]
                $format(Matrix<$block>),
            )*
            /// Any other quantisation, on candle's.
            Candle(QMatMul),
        }

        impl Linear {
            /// A builder of a `(rows, cols)` matrix of `dtype` on tandem's kernels
            /// (`None`: tandem has no kernels for `dtype`, or for rows of `cols`
            /// values, which must be whole blocks).
            pub(super) fn builder(
                dtype: GgmlDType,
                rows: usize,
                cols: usize,
            ) -> Option<Result<LinearBuilder>> {
                match dtype {
                    $(GgmlDType::$format if cols.is_multiple_of(<$block>::VALUES) => Some(
                        MatrixBuilder::<$block>::new(rows, cols)
                            .map(|b| LinearBuilder(Box::new((b, Linear::$format as fn(_) -> _)))),
                    ),)*
                    _ => None,
                }
            }

            /// The products of `ls` on `x` as one, when all are on tandem's kernels in
            /// one format.
            fn own_products(ls: &[&Linear], x: &Tensor) -> Option<Result<Vec<Tensor>>> {
                $(
                    let ms = ls.iter().map(|l| match l {
                        Linear::$format(m) => Some(m),
                        _ => None,
                    });
                    if let Some(ms) = ms.collect::<Option<Vec<_>>>() {
                        return Some(products(&ms, x));
                    }
                )*
                None
            }

            /// Row `r` of the weights, when they are on tandem's kernels (tied
            /// embeddings).
            pub(super) fn row(&self, r: usize) -> Option<Vec<f32>> {
                match self {
                    $(Linear::$format(m) => Some(m.row(r)),)*
                    Linear::Candle(_) => None,
                }
            }
        }
    };
}

own_formats!(
    Q4_0: BlockQ4_0, Q4_1: BlockQ4_1, Q5_0: BlockQ5_0, Q5_1: BlockQ5_1, Q8_0: BlockQ8_0,
    Q4K: BlockQ4K, Q5K: BlockQ5K, Q6K: BlockQ6K, F16: BlockF16, BF16: BlockBF16, F32: BlockF32
);

/// A matrix on tandem's kernels being built from its bytes as they arrive.
pub(super) struct LinearBuilder(Box<dyn Build>);

impl LinearBuilder {
    /// The matrix's next bytes, in file order.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.0.push(bytes)
    }

    /// The matrix, once all its bytes have come.
    pub(super) fn finish(self) -> Result<Linear> {
        self.0.finish()
    }
}

/// [`LinearBuilder`] for one format: its matrix builder and the [`Linear`] variant
/// the matrix goes into.
trait Build {
    fn push(&mut self, bytes: &[u8]);
    fn finish(self: Box<Self>) -> Result<Linear>;
}

impl<B: WeightBlock> Build for (MatrixBuilder<B>, fn(Matrix<B>) -> Linear) {
    fn push(&mut self, bytes: &[u8]) {
        self.0.push(bytes)
    }

    fn finish(self: Box<Self>) -> Result<Linear> {
        let (builder, wrap) = *self;
        builder.finish().map(wrap)
    }
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
        let ys = match Linear::own_products(&ls, x) {
            Some(ys) => ys?,
            // Mixed formats: one product each.
            None => ls
                .iter()
                .map(|l| match l {
                    Linear::Candle(m) => Ok(m.forward(x)?),
                    alone => alone.forward(x),
                })
                .collect::<Result<_>>()?,
        };
        ys.try_into().map_err(|ys: Vec<Tensor>| {
            Error::Inference(format!("{} products where {N} were asked for", ys.len()))
        })
    }
}

/// The products of matrices in one format on `x`, `(seq, cols)`, as one.
fn products<B: WeightBlock>(ms: &[&Matrix<B>], x: &Tensor) -> Result<Vec<Tensor>> {
    let seq = x.dim(0)?;
    let ys = Matrix::matmul_each(ms, &values(x)?);
    ms.iter()
        .zip(ys)
        .map(|(m, y)| Ok(Tensor::from_vec(y, (seq, m.rows()), x.device())?))
        .collect()
}

/// The values of `t`, row-major.
pub(super) fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1()?)
}
