//! Q4_1 on wasm simd128: its nibbles, for the step the 4- and 5-bit formats share.

use std::arch::wasm32::*;

use super::simd128::{self, Nibbles};
use crate::kernels::formats::{BlockQ4_1, QuadQ4_1, QK};

impl Nibbles for BlockQ4_1 {
    #[inline(always)]
    fn quad_scales(quad: &QuadQ4_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    #[inline(always)]
    fn row_nibbles(quad: &QuadQ4_1, r: usize) -> &[u8; QK / 2] {
        &quad.qs[r]
    }
}
