//! Q4_1 on wasm simd128: its step for the driver, with plain simd128 sums or with
//! relaxed SIMD's dot instruction (feature `relaxed-simd`).

use std::arch::wasm32::*;

use super::simd128;
use crate::kernels::formats::{BlockQ4_1, BlockQ8_1, QuadQ4_1};

#[cfg(not(feature = "relaxed-simd"))]
impl simd128::Step for BlockQ4_1 {
    type Y = [v128; 4];
    type W = [v128; 4];

    /// Widened to i16 and split by parity: even then odd positions of the first 16
    /// values, then of the last 16.
    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 4] {
        let p = y.qs.as_ptr() as *const v128;
        // SAFETY: a block has 32 values.
        let (lo, hi) = unsafe { (v128_load(p), v128_load(p.add(1))) };
        let even = |v| i16x8_shr(i16x8_shl(v, 8), 8);
        let odd = |v| i16x8_shr(v, 8);
        [even(lo), odd(lo), even(hi), odd(hi)]
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    /// As 16-bit lanes, byte 2i holds values 2i and 2i+16, byte 2i+1 values 2i+1
    /// and 2i+17: four shifts and masks split them by parity (even then odd
    /// positions of the first 16 values, then of the last 16), as `widen` does.
    #[inline(always)]
    fn unpack(quad: &QuadQ4_1, r: usize) -> [v128; 4] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(quad.qs[r].as_ptr() as *const v128) };
        let m = u16x8_splat(0x0F);
        [
            v128_and(q, m),
            v128_and(u16x8_shr(q, 8), m),
            v128_and(u16x8_shr(q, 4), m),
            u16x8_shr(q, 12),
        ]
    }

    /// The pair sums of the even and odd positions, added.
    #[inline(always)]
    fn sum(w: &[v128; 4], y16: &[v128; 4]) -> v128 {
        simd128::pair_sums(w, y16)
    }
}

#[cfg(feature = "relaxed-simd")]
impl simd128::Step for BlockQ4_1 {
    type Y = [v128; 2];
    type W = [v128; 2];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 2] {
        simd128::halves(&y.qs)
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    /// Values 0-15 (the low nibbles), then 16-31, as bytes in value order.
    #[inline(always)]
    fn unpack(quad: &QuadQ4_1, r: usize) -> [v128; 2] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(quad.qs[r].as_ptr() as *const v128) };
        let m = u8x16_splat(0x0F);
        [v128_and(q, m), v128_and(u16x8_shr(q, 4), m)]
    }

    /// Nibbles (0..=15, so exact on every engine) times signed bytes, in fours, the
    /// second half added onto the first.
    #[inline(always)]
    fn sum(w: &[v128; 2], y: &[v128; 2]) -> v128 {
        let low = i32x4_relaxed_dot_i8x16_i7x16_add(y[0], w[0], i32x4_splat(0));
        i32x4_relaxed_dot_i8x16_i7x16_add(y[1], w[1], low)
    }
}
