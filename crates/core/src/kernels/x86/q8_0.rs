//! Q8_0 on x86: its steps for the AVX2 driver and the AVX-512 VNNI decode kernel.

use std::arch::x86_64::*;

use super::{avx2, avx512_decode};
use crate::kernels::formats::{BlockQ8_0, BlockQ8_1, QuadQ8_0};

impl avx2::Step for BlockQ8_0 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ8_0) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), _mm_setzero_ps())
    }

    /// The values as they are.
    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ8_0, r: usize) -> __m256i {
        _mm256_loadu_si256(quad.qs[r].as_ptr() as *const __m256i)
    }

    /// |x| times y with x's sign (values are within ±127, so pairs are at most
    /// 2*127*127: no saturation).
    #[inline(always)]
    unsafe fn operands(w: __m256i, y8: __m256i) -> (__m256i, __m256i) {
        (_mm256_sign_epi8(w, w), _mm256_sign_epi8(y8, w))
    }
}

impl avx512_decode::Step16 for BlockQ8_0 {
    /// The activation block in both 256-bit halves, and -128 times each four of its
    /// values' sum in the matching lanes: where each row's sums start.
    type Y = (__m512i, __m512i);

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Self::Y {
        let y8 = _mm512_broadcast_i64x4(_mm256_loadu_si256(y.qs.as_ptr() as *const __m256i));
        let zero = _mm512_setzero_si512();
        let excess = _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(-128), y8);
        (y8, _mm512_sub_epi32(zero, excess))
    }

    /// Two rows per load, their signed values as unsigned ones 128 higher (`x ^
    /// 0x80`), so each sum starts at minus the excess: exact. Each row spans two
    /// 128-bit lanes, added together.
    #[inline(always)]
    unsafe fn partials(quad: &QuadQ8_0, (y8, start): Self::Y) -> __m512i {
        let flip = _mm512_set1_epi8(-128);
        let two = |i: usize| {
            let v = _mm512_loadu_si512(quad.qs.as_ptr().add(2 * i) as *const _);
            _mm512_dpbusd_epi32(start, _mm512_xor_si512(v, flip), y8)
        };
        let (a, b) = (two(0), two(1));
        let firsts = _mm512_shuffle_i32x4::<0b10_00_10_00>(a, b);
        let seconds = _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b);
        _mm512_add_epi32(firsts, seconds)
    }

    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ8_0; 4]) -> (__m512, __m512) {
        let d = avx512_decode::f16_lanes(quads.map(|q| &q.d));
        (d, _mm512_setzero_ps())
    }
}
