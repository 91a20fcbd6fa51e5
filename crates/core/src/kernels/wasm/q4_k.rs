//! Q4_K on wasm simd128, and what Q5_K shares with it (`wasm::q5_k` adds its fifth
//! bits): their step for the K-quants' driver.

use std::arch::wasm32::*;

use super::simd128::f16x4;
use super::simd128_k::{self, dot16, row16, Prepared};
use crate::kernels::formats::{BlockFormat, BlockQ4K, BlockQ8_K, QuadQ4K};

/// What Q4_K and Q5_K quads share: scales, sub-block scales and minimums, nibbles.
pub trait SubBlocks: BlockFormat<Activation = BlockQ8_K> {
    /// The quad's f16 scales.
    fn d(quad: &Self::Quad) -> &[u16; 4];
    /// The quad's f16 scales of the minimums.
    fn dmin(quad: &Self::Quad) -> &[u16; 4];
    /// The rows' sub-block scales.
    fn scales(quad: &Self::Quad) -> &[[u8; 8]; 4];
    /// The rows' sub-block minimums.
    fn mins(quad: &Self::Quad) -> &[[u8; 8]; 4];
    /// The rows' nibbles, in chunks.
    fn qs(quad: &Self::Quad) -> &[[[u8; 16]; 4]; 8];
    /// The fifth bits, for Q5_K.
    #[inline(always)]
    fn qh(_quad: &Self::Quad) -> Option<&[[[u8; 16]; 4]; 2]> {
        None
    }
}

impl SubBlocks for BlockQ4K {
    #[inline(always)]
    fn d(quad: &QuadQ4K) -> &[u16; 4] {
        &quad.d
    }

    #[inline(always)]
    fn dmin(quad: &QuadQ4K) -> &[u16; 4] {
        &quad.dmin
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4K) -> &[[u8; 8]; 4] {
        &quad.scales
    }

    #[inline(always)]
    fn mins(quad: &QuadQ4K) -> &[[u8; 8]; 4] {
        &quad.mins
    }

    #[inline(always)]
    fn qs(quad: &QuadQ4K) -> &[[[u8; 16]; 4]; 8] {
        &quad.qs
    }
}

/// The byte `16` where bit `k` of `h`'s bytes is set, from `h` and `h4` (`h` shifted
/// four bits left in 16-bit lanes): the bit masked where it is 16 or more (in `h4`
/// for `k < 4`), and at most 16.
#[inline(always)]
fn bit_as_16(h: v128, h4: v128, k: usize) -> v128 {
    let (bits, mask) = match k < 4 {
        true => (h4, 1u8 << (k + 4)),
        false => (h, 1u8 << k),
    };
    u8x16_min(v128_and(bits, u8x16_splat(mask)), u8x16_splat(16))
}

impl<B: SubBlocks> simd128_k::Step for B {
    #[inline(always)]
    fn scales(quad: &B::Quad) -> (v128, v128) {
        (f16x4(B::d(quad)), f16x4(B::dmin(quad)))
    }

    /// Per sub-block, the products of its two chunks (16 values each) summed, then
    /// multiplied by its scale; the minimums times the activations' sums of 32.
    #[inline(always)]
    fn sums(quad: &B::Quad, r: usize, y: &Prepared) -> (v128, v128) {
        let (zero, nibble) = (i32x4_splat(0), u8x16_splat(0x0F));
        let (scales, qs) = (&B::scales(quad)[r], B::qs(quad));
        let mut isum = zero;
        for j in 0..4 {
            let (mut low, mut high) = (zero, zero);
            for p in 0..2 {
                let q = row16(&qs[2 * j + p], r);
                let mut v = [v128_and(q, nibble), v128_and(u16x8_shr(q, 4), nibble)];
                if let Some(qh) = B::qh(quad) {
                    let h = row16(&qh[p], r);
                    let h4 = u16x8_shl(h, 4);
                    for (s, v) in v.iter_mut().enumerate() {
                        *v = v128_or(*v, bit_as_16(h, h4, 2 * j + s));
                    }
                }
                low = dot16(v[0], &y.y[4 * j + p], low);
                high = dot16(v[1], &y.y[4 * j + 2 + p], high);
            }
            let scaled = |sum, s: usize| i32x4_mul(sum, i32x4_splat(scales[s] as i32));
            isum = i32x4_add(isum, i32x4_add(scaled(low, 2 * j), scaled(high, 2 * j + 1)));
        }
        // SAFETY: eight bytes are read from eight.
        let mins = unsafe { u16x8_load_extend_u8x8(B::mins(quad)[r].as_ptr()) };
        (isum, i32x4_dot_i16x8(mins, y.pairs))
    }
}
