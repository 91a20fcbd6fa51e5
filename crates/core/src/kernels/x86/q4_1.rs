//! Q4_1 on x86: its steps for the AVX2 driver, the AVX-512 VNNI decode kernel and
//! the prompt kernel.

use std::arch::x86_64::*;

use super::avx2;
use super::avx512_decode::{self, Halves};
use super::prompt::{self, Prompt, Unpacked};
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

    unsafe fn prompt_rows(
        quads: &[QuadQ4_1],
        ys: &[BlockQ8_1],
        out: &mut [f32],
        rows: usize,
    ) -> usize {
        prompt::dot_rows::<Self>(quads, ys, out, rows)
    }
}

impl Prompt for BlockQ4_1 {
    /// Each row's 16 bytes of nibbles, rows 0-3 in the low half and 4-7 in the high
    /// one, transposed as dwords: dword `j` holds the low nibbles of values `4j..4j +
    /// 4` (and in its high nibbles values `16 + 4j..`).
    #[inline(always)]
    unsafe fn eight(a: &QuadQ4_1, b: &QuadQ4_1) -> Unpacked<__m256i, __m256> {
        let mut v = [_mm256_setzero_si256(); 4];
        for (r, v) in v.iter_mut().enumerate() {
            let nibbles = |q: &QuadQ4_1| q.qs[r].as_ptr() as *const __m128i;
            *v = _mm256_set_m128i(_mm_loadu_si128(nibbles(b)), _mm_loadu_si128(nibbles(a)));
        }
        let dwords = prompt::dwords(v);
        let mask = _mm256_set1_epi8(0x0F);
        let mut w = [_mm256_setzero_si256(); 8];
        for j in 0..4 {
            w[j] = _mm256_and_si256(dwords[j], mask);
            w[j + 4] = _mm256_and_si256(_mm256_srli_epi16(dwords[j], 4), mask);
        }
        Unpacked {
            w,
            d: prompt::f16x8(&a.d, &b.d),
            m: prompt::f16x8(&a.m, &b.m),
        }
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
