//! Quantised matrix kernels with llama.cpp's arithmetic: Q4_1 weights times
//! activations quantised to Q8_1 per 32-value block. The integer dot product of a
//! block is exact in every implementation (scalar reference, wasm simd128, x86 AVX2),
//! and the per-block float steps are the same scalar code, so all of them give
//! bit-identical results.

mod blocks;
mod dot;
mod matrix;

pub use blocks::{quantize_q8_1, BlockQ4_1, BlockQ8_1, QK};
pub use dot::{dot4_q4_1_q8_1, dot_q4_1_q8_1, dot_q4_1_q8_1_scalar};
pub use matrix::Q4_1Matrix;
