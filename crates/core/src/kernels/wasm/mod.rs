//! The wasm kernels: the simd128 driver every 32-value format shares, the one the
//! K-quants share, the one the float formats share, and each format's steps for them
//! (plain simd128 sums, or relaxed SIMD's dot instruction, and its fused multiply-add
//! for F16, with the `relaxed-simd` feature).

mod bf16;
mod f16;
mod f32;
mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
pub mod simd128;
pub mod simd128_float;
pub mod simd128_k;
