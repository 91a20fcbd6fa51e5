//! Q5_1 on wasm simd128: its nibbles and fifth bits, for the step the 4- and 5-bit
//! formats share.

use std::arch::wasm32::*;

use super::simd128::{self, Nibbles};
use crate::kernels::formats::{BlockQ5_1, QuadQ5_1, QK};

impl Nibbles for BlockQ5_1 {
    #[inline(always)]
    fn quad_scales(quad: &QuadQ5_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    #[inline(always)]
    fn row_nibbles(quad: &QuadQ5_1, r: usize) -> &[u8; QK / 2] {
        &quad.qs[r]
    }

    #[inline(always)]
    fn row_fifth_bits(quad: &QuadQ5_1, r: usize) -> Option<u32> {
        Some(quad.qh[r])
    }
}
