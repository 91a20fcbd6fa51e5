//! F32 on wasm simd128: its values in order, as they are.

use std::arch::wasm32::*;

use super::simd128_float;
use crate::kernels::formats::QK;

impl simd128_float::Step for f32 {
    #[inline(always)]
    fn four(row: &[f32; QK], j: usize) -> v128 {
        // SAFETY: four floats are read from 32.
        unsafe { v128_load(row[4 * j..].as_ptr() as *const v128) }
    }
}
