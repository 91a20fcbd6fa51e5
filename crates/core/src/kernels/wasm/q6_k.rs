//! Q6_K on wasm simd128: its step for the K-quants' driver. Its values are
//! multiplied unsigned (`u`, 32 above the real ones), each group of 16 by its scale,
//! and `32 * Σ_g sc_g * bsum_g` is taken off: exact.

use std::arch::wasm32::*;

use super::simd128::f16x4;
use super::simd128_k::{self, dot16, row16, Prepared};
use crate::kernels::formats::{BlockQ6K, QuadQ6K};

impl simd128_k::Step for BlockQ6K {
    #[inline(always)]
    fn scales(quad: &QuadQ6K) -> (v128, v128) {
        (f16x4(&quad.d), f32x4_splat(0.0))
    }

    /// Per group, its products times its scale. A chunk of low bits holds groups
    /// `k = 0, 2` (`a`) or `1, 3` (`b`) of four; group `k`'s top bits are bits `2k,
    /// 2k + 1` of the top-bit chunk's bytes, shifted to bits 4 and 5 in 16-bit lanes
    /// (a byte's bits stay in it once masked).
    #[inline(always)]
    fn sums(quad: &QuadQ6K, r: usize, y: &Prepared) -> (v128, v128) {
        let zero = i32x4_splat(0);
        let (nibble, top) = (u8x16_splat(0x0F), u8x16_splat(0x30));
        let (mut isum, mut offset) = (zero, zero);
        for h in 0..2 {
            let scales = &quad.scales[h][r];
            // SAFETY: eight bytes are read from eight.
            let wide = unsafe { i16x8_load_extend_i8x8(scales.as_ptr()) };
            offset = i32x4_add(offset, i32x4_dot_i16x8(wide, y.bsums[h]));
            for p in 0..2 {
                let a = row16(&quad.ql[4 * h + p], r);
                let b = row16(&quad.ql[4 * h + 2 + p], r);
                let t = row16(&quad.qh[2 * h + p], r);
                let u = [
                    v128_or(v128_and(a, nibble), v128_and(u16x8_shl(t, 4), top)),
                    v128_or(v128_and(b, nibble), v128_and(u16x8_shl(t, 2), top)),
                    v128_or(v128_and(u16x8_shr(a, 4), nibble), v128_and(t, top)),
                    v128_or(
                        v128_and(u16x8_shr(b, 4), nibble),
                        v128_and(u16x8_shr(t, 2), top),
                    ),
                ];
                for (k, u) in u.into_iter().enumerate() {
                    let sum = dot16(u, &y.y[8 * h + 2 * k + p], zero);
                    let scale = i32x4_splat(scales[2 * k + p] as i32);
                    isum = i32x4_add(isum, i32x4_mul(sum, scale));
                }
            }
        }
        (i32x4_sub(isum, i32x4_shl(offset, 5)), zero)
    }
}
