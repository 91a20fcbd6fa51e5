//! Q5_0 on wasm simd128: its nibbles and fifth bits (16 above its values), for the
//! step the 4- and 5-bit formats share.

use std::arch::wasm32::*;

use super::simd128::{self, Nibbles};
use crate::kernels::formats::{BlockQ5_0, QuadQ5_0, QK};

impl Nibbles for BlockQ5_0 {
    #[inline(always)]
    fn quad_scales(quad: &QuadQ5_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    #[inline(always)]
    fn row_nibbles(quad: &QuadQ5_0, r: usize) -> &[u8; QK / 2] {
        &quad.qs[r]
    }

    #[inline(always)]
    fn row_fifth_bits(quad: &QuadQ5_0, r: usize) -> Option<u32> {
        Some(quad.qh[r])
    }
}
