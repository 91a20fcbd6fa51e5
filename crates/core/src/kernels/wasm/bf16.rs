//! BF16 on wasm simd128: its values in pairs (`Float::PAIRED`: 32-bit lanes holding
//! value `i` in their low half and `16 + i` in their high half), the low halves
//! shifted up and the high halves masked: f32s in order, one instruction per four.

use std::arch::wasm32::*;

use half::bf16;

use super::simd128_float;
use crate::kernels::formats::QK;

impl simd128_float::Step for bf16 {
    #[inline(always)]
    fn four(row: &[bf16; QK], j: usize) -> v128 {
        // SAFETY: the four lanes of values 4j..4j + 4 (the first eight 16 bytes on)
        // are read from 64 bytes.
        let pairs = unsafe { v128_load((row.as_ptr() as *const v128).add(j % 4)) };
        match j < 4 {
            true => i32x4_shl(pairs, 16),
            false => v128_and(pairs, u32x4_splat(0xFFFF_0000)),
        }
    }
}
