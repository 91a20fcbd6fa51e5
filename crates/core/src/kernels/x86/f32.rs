//! F32 on x86: its values in order, as they are.

use std::arch::x86_64::*;

use super::{avx2_float, avx512_float};
use crate::kernels::formats::QK;

impl avx2_float::Step for f32 {
    #[inline(always)]
    unsafe fn values(row: &[f32; QK]) -> [__m256; 4] {
        let p = row.as_ptr();
        [
            _mm256_loadu_ps(p),
            _mm256_loadu_ps(p.add(8)),
            _mm256_loadu_ps(p.add(16)),
            _mm256_loadu_ps(p.add(24)),
        ]
    }
}

impl avx512_float::Step512 for f32 {
    #[inline(always)]
    unsafe fn values16(row: &[f32; QK]) -> [__m512; 2] {
        let p = row.as_ptr();
        [_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16))]
    }
}
