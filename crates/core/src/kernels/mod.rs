//! Matrix kernels with llama.cpp's arithmetic: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0
//! weights times activations quantised to Q8_1 per 32-value block, the K-quants Q4_K,
//! Q5_K and Q6_K times activations quantised to Q8_K per 256-value super-block, and
//! the float formats F16, BF16 and F32 times activations rounded to their type. The
//! integer sums of a quantised block are exact in every implementation (scalar
//! reference, wasm simd128 plain and relaxed, x86 AVX2, AVX-VNNI and AVX-512 VNNI),
//! and every implementation does the same float operations on them in the same order
//! (per row, one lane per block sum; never fused); the float formats' products are
//! summed in ggml's AVX2 order (32 partial sums, then a fixed reduction) everywhere,
//! fused only for F16, whose products are exact. So all of them give bit-identical
//! results.
//!
//! The folder is formats × instruction sets: `formats/` (plain block formats and
//! their reference arithmetic, a leaf), `x86/` and `wasm/` (a driver per instruction
//! set, and a file per format with its steps for it), `pick.rs` (the one place that
//! picks a kernel for this machine), `rows.rs` (rows in fours onto a product's
//! output), `matrix.rs` (a weight matrix and its products) and `check.rs` (the
//! picked kernel against the reference, for tests anywhere).

mod check;
#[cfg(test)]
mod exactness;
mod formats;
mod matrix;
mod pick;
mod rows;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use check::{dot4_mismatch, finite_blocks};
pub use formats::{
    quantize_q8_1_reference, quantize_q8_k, ActivationBlock, Block32, BlockBF16, BlockF16,
    BlockF32, BlockFloat, BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0,
    BlockQ5_1, BlockQ6K, BlockQ8_0, BlockQ8_1, BlockQ8_K, Float, QuadFloat, QuadQ4K, QuadQ4_0,
    QuadQ4_1, QuadQ5K, QuadQ5_0, QuadQ5_1, QuadQ6K, QuadQ8_0, Rounded, QK, QK_K,
};
pub(crate) use matrix::PARALLEL;
pub use matrix::{on_pool, Matrix, MatrixBuilder};
pub use pick::{quantize_q8_1, WeightBlock};

/// A Q4_0 weight matrix.
pub type Q4_0Matrix = Matrix<BlockQ4_0>;
/// A Q4_1 weight matrix.
pub type Q4_1Matrix = Matrix<BlockQ4_1>;
/// A Q5_0 weight matrix (most of Gemma 3 270M's layer weights, in its Q4_K_M file).
pub type Q5_0Matrix = Matrix<BlockQ5_0>;
/// A Q5_1 weight matrix.
pub type Q5_1Matrix = Matrix<BlockQ5_1>;
/// A Q8_0 weight matrix (the output and embedding matrix of the default model).
pub type Q8_0Matrix = Matrix<BlockQ8_0>;
/// A Q4_K weight matrix (Gemma 3 270M's attention outputs, in its Q4_K_M file).
pub type Q4KMatrix = Matrix<BlockQ4K>;
/// A Q5_K weight matrix.
pub type Q5KMatrix = Matrix<BlockQ5K>;
/// A Q6_K weight matrix (Gemma 3 270M's FFN down projections, in its Q4_K_M file).
pub type Q6KMatrix = Matrix<BlockQ6K>;
/// An F16 weight matrix.
pub type F16Matrix = Matrix<BlockF16>;
/// A BF16 weight matrix.
pub type BF16Matrix = Matrix<BlockBF16>;
/// An F32 weight matrix.
pub type F32Matrix = Matrix<BlockF32>;
