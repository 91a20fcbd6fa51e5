//! The x86 kernels: the AVX2 driver every format shares (with AVX-VNNI sums where the
//! CPU has them), the AVX-512 VNNI decode kernel, the Q4_1 prompt kernel, and each
//! format's steps for them.

pub mod avx2;
pub mod avx512_decode;
pub mod prompt_q4_1;
mod q4_1;
mod q8_0;
