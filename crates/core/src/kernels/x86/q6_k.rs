//! Q6_K on x86: its steps for the K-quants' AVX2 driver and AVX-512 VNNI kernel. Its values are multiplied unsigned (`u`, 32 above the real ones), each
//! group of 16 by its scale, and `32 * Σ_g sc_g * bsum_g` is taken off: exact.

use std::arch::x86_64::*;

use super::avx2_k::{self, both_halves, lane, two_rows, two_rows_i8};
use super::avx512_k::{self, every_lane, four_rows_i8, lane16, quarters};
use crate::kernels::formats::{BlockQ6K, BlockQ8_K, QuadQ6K};

/// The four groups' values from a chunk of low bits `a` (groups `k = 0, 2`), one `b`
/// (`k = 1, 3`) and a chunk of top bits `h`, in 8-bit lanes: group `k`'s top bits are
/// bits `2k, 2k + 1` of `h`'s bytes, shifted to bits 4 and 5 in 16-bit lanes (a byte's
/// bits stay in it once masked).
macro_rules! six_bits {
    ($and:ident, $or:ident, $srli:ident, $slli:ident, $set1:ident, $a:expr, $b:expr, $h:expr) => {{
        let (a, b, h) = ($a, $b, $h);
        let (nibble, top) = ($set1(0x0F), $set1(0x30));
        [
            $or($and(a, nibble), $and($slli::<4>(h), top)),
            $or($and(b, nibble), $and($slli::<2>(h), top)),
            $or($and($srli::<4>(a), nibble), $and(h, top)),
            $or($and($srli::<4>(b), nibble), $and($srli::<2>(h), top)),
        ]
    }};
}

impl avx2_k::Step for BlockQ6K {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ6K) -> (__m128, __m128) {
        let d = _mm_loadl_epi64(quad.d.as_ptr() as *const __m128i);
        (_mm_cvtph_ps(d), _mm_setzero_ps())
    }

    /// Per group, the pairs of products (at most 2 * 63 * 127) by `vpmaddwd` with the
    /// group's scale.
    #[inline(always)]
    unsafe fn sums(quad: &QuadQ6K, y: &BlockQ8_K) -> [__m256i; 4] {
        let zero = _mm256_setzero_si256();
        let [i01, i23] = [0, 1].map(|pair| {
            let (mut isum, mut offset) = (zero, zero);
            for h in 0..2 {
                let scales = two_rows_i8(&quad.scales[h][2 * pair..]);
                let bsums = both_halves(y.bsums[8 * h..].as_ptr());
                offset = _mm256_add_epi32(offset, _mm256_madd_epi16(scales, bsums));
                for p in 0..2 {
                    let u = six_bits!(
                        _mm256_and_si256,
                        _mm256_or_si256,
                        _mm256_srli_epi16,
                        _mm256_slli_epi16,
                        _mm256_set1_epi8,
                        two_rows(&quad.ql[4 * h + p], pair),
                        two_rows(&quad.ql[4 * h + 2 + p], pair),
                        two_rows(&quad.qh[2 * h + p], pair)
                    );
                    for (k, u) in u.into_iter().enumerate() {
                        let y = both_halves(y.qs[16 * (8 * h + 2 * k + p)..].as_ptr());
                        let products = _mm256_maddubs_epi16(u, y);
                        let scaled = _mm256_madd_epi16(products, lane(scales, 2 * k + p));
                        isum = _mm256_add_epi32(isum, scaled);
                    }
                }
            }
            _mm256_sub_epi32(isum, _mm256_slli_epi32::<5>(offset))
        });
        [i01, i23, zero, zero]
    }
}

impl avx512_k::Step512 for BlockQ6K {
    /// Per group, the pairs of products by `vpdpwssd` with the group's scale.
    #[inline(always)]
    unsafe fn partials(quad: &QuadQ6K, y: &BlockQ8_K) -> (__m512i, __m512i) {
        let zero = _mm512_setzero_si512();
        let (mut isum, mut offset) = (zero, zero);
        for h in 0..2 {
            let scales = four_rows_i8(&quad.scales[h]);
            let bsums = every_lane(y.bsums[8 * h..].as_ptr());
            offset = _mm512_dpwssd_epi32(offset, scales, bsums);
            for p in 0..2 {
                let u = six_bits!(
                    _mm512_and_si512,
                    _mm512_or_si512,
                    _mm512_srli_epi16,
                    _mm512_slli_epi16,
                    _mm512_set1_epi8,
                    quarters(&quad.ql[4 * h + p]),
                    quarters(&quad.ql[4 * h + 2 + p]),
                    quarters(&quad.qh[2 * h + p])
                );
                for (k, u) in u.into_iter().enumerate() {
                    let at = 16 * (8 * h + 2 * k + p);
                    let y = every_lane(y.qs[at..].as_ptr());
                    let products = _mm512_maddubs_epi16(u, y);
                    isum = _mm512_dpwssd_epi32(isum, products, lane16(scales, 2 * k + p));
                }
            }
        }
        (_mm512_sub_epi32(isum, _mm512_slli_epi32::<5>(offset)), zero)
    }
}
