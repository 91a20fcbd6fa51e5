//! Q4_0 on x86: its steps for the AVX2 driver and the AVX-512 VNNI decode kernel (its
//! nibbles as they are, 8 above its values).

use std::arch::x86_64::*;

use super::avx2;
use super::avx512_decode::{self, Halves};
use crate::kernels::formats::{BlockFormat, BlockQ4_0, BlockQ8_1, QuadQ4_0};

impl avx2::Step for BlockQ4_0 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ4_0) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), _mm_setzero_ps())
    }

    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ4_0, r: usize) -> __m256i {
        avx2::nibbles(&quad.qs[r])
    }
}

impl avx512_decode::Step16 for BlockQ4_0 {
    type Y = Halves;

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Halves {
        Halves::new(y, Self::OFFSET)
    }

    #[inline(always)]
    unsafe fn partials(quad: &QuadQ4_0, y: Halves) -> __m512i {
        let (low, high) = avx512_decode::nibbles(&quad.qs);
        y.partials(low, high)
    }

    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ4_0; 4]) -> (__m512, __m512) {
        let d = avx512_decode::f16_lanes(quads.map(|q| &q.d));
        (d, _mm512_setzero_ps())
    }
}
