//! Q4_1 on x86: its steps for the AVX2 driver and the AVX-512 VNNI decode kernel.

use std::arch::x86_64::*;

use super::{avx2, avx512_decode};
use crate::kernels::formats::{BlockQ4_1, BlockQ8_1, QuadQ4_1};

impl avx2::Step for BlockQ4_1 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ4_1) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), avx2::f16x4(&quad.m))
    }

    /// The nibbles as 32 bytes in value order.
    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ4_1, r: usize) -> __m256i {
        let mask = _mm_set1_epi8(0x0F);
        let q = _mm_loadu_si128(quad.qs[r].as_ptr() as *const __m128i);
        let lo = _mm_and_si128(q, mask);
        let hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        _mm256_set_m128i(hi, lo)
    }

    /// Unsigned nibbles times signed bytes (pairs at most 2*15*128: no saturation).
    #[inline(always)]
    unsafe fn operands(w: __m256i, y8: __m256i) -> (__m256i, __m256i) {
        (w, y8)
    }
}

impl avx512_decode::Step16 for BlockQ4_1 {
    /// The activation block's two halves, each in every 128-bit lane.
    type Y = (__m512i, __m512i);

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Self::Y {
        let half = |h: usize| {
            _mm512_broadcast_i32x4(_mm_loadu_si128(y.qs[16 * h..].as_ptr() as *const __m128i))
        };
        (half(0), half(1))
    }

    /// The quad's 64 bytes of nibbles in one load: the low nibbles (values 0-15)
    /// times the first half, the high ones times the second.
    #[inline(always)]
    unsafe fn partials(quad: &QuadQ4_1, (first, second): Self::Y) -> __m512i {
        let mask = _mm512_set1_epi8(0x0F);
        let v = _mm512_loadu_si512(quad.qs.as_ptr() as *const _);
        let lo = _mm512_and_si512(v, mask);
        let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), mask);
        let sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, first);
        _mm512_dpbusd_epi32(sums, hi, second)
    }

    /// From each quad's first 16 bytes: its scales, then its minimums.
    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ4_1; 4]) -> (__m512, __m512) {
        let head = |i: usize| _mm_loadu_si128(quads[i] as *const QuadQ4_1 as *const __m128i);
        // [d, m] of quads 0 and 1, and of quads 2 and 3.
        let lo = _mm512_cvtph_ps(_mm256_set_m128i(head(1), head(0)));
        let hi = _mm512_cvtph_ps(_mm256_set_m128i(head(3), head(2)));
        let d = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
        let m = _mm512_add_epi32(d, _mm512_set1_epi32(4));
        (
            _mm512_permutex2var_ps(lo, d, hi),
            _mm512_permutex2var_ps(lo, m, hi),
        )
    }
}
