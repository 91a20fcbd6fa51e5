//! The wasm kernels: the simd128 driver every 32-value format shares, the one the
//! K-quants share, and each format's steps for them (plain simd128 sums, or relaxed
//! SIMD's dot instruction with the `relaxed-simd` feature).

mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
pub mod simd128;
pub mod simd128_k;
