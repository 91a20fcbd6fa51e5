//! Quantised matrix kernels with llama.cpp's arithmetic: Q4_1 and Q8_0 weights times
//! activations quantised to Q8_1 per 32-value block. The integer dot product of a
//! block is exact in every implementation (scalar reference, wasm simd128 plain and
//! relaxed, x86 AVX2, AVX-VNNI and AVX-512 VNNI), and every implementation does the
//! same float operations on it in the same order (per row, one lane per block sum;
//! never fused), so all of them give bit-identical results.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx2_prompt;
#[cfg(target_arch = "x86_64")]
mod avx512_decode;
mod blocks;
mod dot;
mod dot_q8_0;
mod matrix;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

pub use blocks::{
    quantize_q8_1, quantize_q8_1_reference, BlockQ4_1, BlockQ8_0, BlockQ8_1, QuadQ4_1, QuadQ8_0,
    WeightBlock, QK,
};
pub use matrix::{on_pool, Matrix};

/// A Q4_1 weight matrix.
pub type Q4_1Matrix = Matrix<BlockQ4_1>;
/// A Q8_0 weight matrix (the output and embedding matrix of the default model).
pub type Q8_0Matrix = Matrix<BlockQ8_0>;
