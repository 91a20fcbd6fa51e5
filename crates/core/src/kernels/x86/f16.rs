//! F16 on x86: its values in order, converted by F16C (exact, infinities and NaNs
//! included).

use std::arch::x86_64::*;

use half::f16;

use super::{avx2_float, avx512_float};
use crate::kernels::formats::QK;

impl avx2_float::Step for f16 {
    #[inline(always)]
    unsafe fn values(row: &[f16; QK]) -> [__m256; 4] {
        let p = row.as_ptr() as *const __m128i;
        [
            _mm256_cvtph_ps(_mm_loadu_si128(p)),
            _mm256_cvtph_ps(_mm_loadu_si128(p.add(1))),
            _mm256_cvtph_ps(_mm_loadu_si128(p.add(2))),
            _mm256_cvtph_ps(_mm_loadu_si128(p.add(3))),
        ]
    }
}

impl avx512_float::Step512 for f16 {
    #[inline(always)]
    unsafe fn values16(row: &[f16; QK]) -> [__m512; 2] {
        let p = row.as_ptr() as *const __m256i;
        [
            _mm512_cvtph_ps(_mm256_loadu_si256(p)),
            _mm512_cvtph_ps(_mm256_loadu_si256(p.add(1))),
        ]
    }
}
