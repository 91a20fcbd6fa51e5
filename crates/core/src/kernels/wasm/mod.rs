//! The wasm kernels: the simd128 driver every format shares, and each format's steps
//! for it (plain simd128 sums, or relaxed SIMD's dot instruction with the
//! `relaxed-simd` feature).

mod q4_1;
mod q8_0;
pub mod simd128;
