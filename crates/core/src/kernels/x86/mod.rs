//! The x86 kernels: the AVX2 driver every 32-value format shares (with AVX-VNNI sums
//! where the CPU has them), the AVX-512 VNNI decode kernel, the prompt kernel (Q4_1,
//! Q8_0); the AVX2 driver and the AVX-512 VNNI kernel the K-quants share; the AVX2
//! driver and the AVX-512 kernel the float formats share; and each format's steps for
//! them.

pub mod avx2;
pub mod avx2_float;
pub mod avx2_k;
pub mod avx512_decode;
pub mod avx512_float;
pub mod avx512_k;
mod bf16;
mod f16;
mod f32;
pub mod prompt;
mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
