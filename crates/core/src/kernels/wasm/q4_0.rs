//! Q4_0 on wasm simd128: its nibbles (8 above its values), for the step the 4- and
//! 5-bit formats share.

use std::arch::wasm32::*;

use super::simd128::{self, Nibbles};
use crate::kernels::formats::{BlockQ4_0, QuadQ4_0, QK};

impl Nibbles for BlockQ4_0 {
    #[inline(always)]
    fn quad_scales(quad: &QuadQ4_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    #[inline(always)]
    fn row_nibbles(quad: &QuadQ4_0, r: usize) -> &[u8; QK / 2] {
        &quad.qs[r]
    }
}
