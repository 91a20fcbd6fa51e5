//! Quantised matrix kernels with llama.cpp's arithmetic: Q4_1 and Q8_0 weights times
//! activations quantised to Q8_1 per 32-value block. The integer dot product of a
//! block is exact in every implementation (scalar reference, wasm simd128 plain and
//! relaxed, x86 AVX2, AVX-VNNI and AVX-512 VNNI), and every implementation does the
//! same float operations on it in the same order (per row, one lane per block sum;
//! never fused), so all of them give bit-identical results.
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

pub use check::dot4_mismatch;
pub use formats::{
    quantize_q8_1_reference, BlockFormat, BlockQ4_1, BlockQ8_0, BlockQ8_1, QuadQ4_1, QuadQ8_0, QK,
};
pub(crate) use matrix::PARALLEL;
pub use matrix::{on_pool, Matrix};
pub use pick::{quantize_q8_1, WeightBlock};

/// A Q4_1 weight matrix.
pub type Q4_1Matrix = Matrix<BlockQ4_1>;
/// A Q8_0 weight matrix (the output and embedding matrix of the default model).
pub type Q8_0Matrix = Matrix<BlockQ8_0>;
