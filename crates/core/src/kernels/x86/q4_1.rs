//! Q4_1 on x86: its steps for the AVX2 driver and the AVX-512 VNNI decode kernel.

use std::arch::x86_64::*;

use super::avx512_decode::{self, Halves};
use super::{avx2, prompt_q4_1};
use crate::kernels::formats::{BlockFormat, BlockQ4_1, BlockQ8_1, QuadQ4_1};

impl avx2::Step for BlockQ4_1 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ4_1) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), avx2::f16x4(&quad.m))
    }

    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ4_1, r: usize) -> __m256i {
        avx2::nibbles(&quad.qs[r])
    }

    /// The Q4_1 prompt kernel: a weight row per lane.
    unsafe fn prompt_rows(
        quads: &[QuadQ4_1],
        ys: &[BlockQ8_1],
        out: &mut [f32],
        rows: usize,
    ) -> usize {
        prompt_q4_1::dot_rows(quads, ys, out, rows)
    }
}

impl avx512_decode::Step16 for BlockQ4_1 {
    type Y = Halves;

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Halves {
        Halves::new(y, Self::OFFSET)
    }

    #[inline(always)]
    unsafe fn partials(quad: &QuadQ4_1, y: Halves) -> __m512i {
        let (low, high) = avx512_decode::nibbles(&quad.qs);
        y.partials(low, high)
    }

    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ4_1; 4]) -> (__m512, __m512) {
        avx512_decode::scales_and_minimums(quads.map(|q| q as *const _ as *const u16))
    }
}
