//! Q5_0 on x86: its steps for the AVX2 driver and the AVX-512 VNNI decode kernel (its
//! 5-bit values as they are, 16 above its values).

use std::arch::x86_64::*;

use super::avx2;
use super::avx512_decode::{self, Halves};
use crate::kernels::formats::{BlockFormat, BlockQ5_0, BlockQ8_1, QuadQ5_0};

impl avx2::Step for BlockQ5_0 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ5_0) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), _mm_setzero_ps())
    }

    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ5_0, r: usize) -> __m256i {
        avx2::fifth_bits(quad.qh[r], avx2::nibbles(&quad.qs[r]))
    }
}

impl avx512_decode::Step16 for BlockQ5_0 {
    type Y = Halves;

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Halves {
        Halves::new(y, Self::OFFSET)
    }

    #[inline(always)]
    unsafe fn partials(quad: &QuadQ5_0, y: Halves) -> __m512i {
        let (low, high) = avx512_decode::fifth_bits(&quad.qh, avx512_decode::nibbles(&quad.qs));
        y.partials(low, high)
    }

    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ5_0; 4]) -> (__m512, __m512) {
        let d = avx512_decode::f16_lanes(quads.map(|q| &q.d));
        (d, _mm512_setzero_ps())
    }
}
