//! Q8_0 on wasm simd128: its step for the driver, with plain simd128 sums or with
//! relaxed SIMD's dot instruction (feature `relaxed-simd`).

use std::arch::wasm32::*;

use super::simd128;
use crate::kernels::formats::{BlockQ8_0, BlockQ8_1, QuadQ8_0};

#[cfg(not(feature = "relaxed-simd"))]
impl simd128::Step for BlockQ8_0 {
    type Y = [v128; 4];
    type W = [v128; 4];

    /// Widened to i16 in order.
    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 4] {
        simd128::widened(&y.qs)
    }

    #[inline(always)]
    fn scales(quad: &QuadQ8_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    /// Widened to i16 in order.
    #[inline(always)]
    fn unpack(quad: &QuadQ8_0, r: usize) -> [v128; 4] {
        simd128::widened(&quad.qs[r])
    }

    /// Sums of pairs, added.
    #[inline(always)]
    fn sum(w: &[v128; 4], y16: &[v128; 4]) -> v128 {
        simd128::pair_sums(w, y16)
    }
}

#[cfg(feature = "relaxed-simd")]
impl simd128::Step for BlockQ8_0 {
    type Y = [v128; 2];
    type W = [v128; 2];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 2] {
        simd128::halves(&y.qs)
    }

    #[inline(always)]
    fn scales(quad: &QuadQ8_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    /// The values as they are.
    #[inline(always)]
    fn unpack(quad: &QuadQ8_0, r: usize) -> [v128; 2] {
        simd128::halves(&quad.qs[r])
    }

    /// |x| (within 0..=127, so exact on every engine) times y with x's sign, in
    /// fours; y is within ±127, so negating it cannot overflow.
    #[inline(always)]
    fn sum(w: &[v128; 2], y: &[v128; 2]) -> v128 {
        let half = |w: v128, y: v128, acc: v128| {
            let sign = i8x16_lt(w, i8x16_splat(0));
            let y = i8x16_sub(v128_xor(y, sign), sign);
            i32x4_relaxed_dot_i8x16_i7x16_add(y, i8x16_abs(w), acc)
        };
        half(w[1], y[1], half(w[0], y[0], i32x4_splat(0)))
    }
}
