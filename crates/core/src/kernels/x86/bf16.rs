//! BF16 on x86: its values in pairs (`Float::PAIRED`: 32-bit lanes holding value `i`
//! in their low half and `16 + i` in their high half), the low halves shifted up and
//! the high halves masked: f32s in order, two instructions per 16 values.

use std::arch::x86_64::*;

use half::bf16;

use super::{avx2_float, avx512_float};
use crate::kernels::formats::QK;

impl avx2_float::Step for bf16 {
    #[inline(always)]
    unsafe fn values(row: &[bf16; QK]) -> [__m256; 4] {
        let p = row.as_ptr() as *const __m256i;
        let (p0, p1) = (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)));
        let high = _mm256_set1_epi32(-0x1_0000);
        [
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(p0)),
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(p1)),
            _mm256_castsi256_ps(_mm256_and_si256(p0, high)),
            _mm256_castsi256_ps(_mm256_and_si256(p1, high)),
        ]
    }
}

impl avx512_float::Step512 for bf16 {
    #[inline(always)]
    unsafe fn values16(row: &[bf16; QK]) -> [__m512; 2] {
        let p = _mm512_loadu_si512(row.as_ptr() as *const _);
        [
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(p)),
            _mm512_castsi512_ps(_mm512_and_si512(p, _mm512_set1_epi32(-0x1_0000))),
        ]
    }
}
