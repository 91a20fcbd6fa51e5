//! F16 on wasm simd128: its values in order, converted exactly, infinities and NaNs
//! included (as F16C converts them on x86), with no float arithmetic on subnormal
//! f32s (which some CPUs take many times longer over).

use std::arch::wasm32::*;

use half::f16;

use super::simd128_float;
use crate::kernels::formats::QK;

impl simd128_float::Step for f16 {
    /// Sign-extended to 32 bits: the sign lands in bit 31, and the other 15 bits
    /// shifted into place under it become an f32 by moving the exponent's bias up by
    /// 112 (an integer add; exponent 31, infinity or NaN, moves by 112 more, to f32's
    /// 255). A subnormal (exponent 0) is moved up by 113, as if it had an implicit
    /// one, which a float subtraction of its own power of two (2^-14, with its sign)
    /// takes off again.
    #[inline(always)]
    fn four(row: &[f16; QK], j: usize) -> v128 {
        // SAFETY: four halves are read from 32.
        let h = unsafe { i32x4_load_extend_i16x4(row[4 * j..].as_ptr() as *const i16) };
        let bits = v128_and(i32x4_shl(h, 13), u32x4_splat(0x8FFF_E000));
        let exponent = v128_and(bits, u32x4_splat(0x0F80_0000));
        let bias = u32x4_splat(112 << 23);
        let top = i32x4_eq(exponent, u32x4_splat(0x0F80_0000));
        let normal = i32x4_add(i32x4_add(bits, bias), v128_and(top, bias));
        let implicit = i32x4_add(bits, u32x4_splat(113 << 23));
        let one = v128_and(implicit, u32x4_splat(0xFF80_0000));
        let subnormal = f32x4_sub(implicit, one);
        v128_bitselect(subnormal, normal, i32x4_eq(exponent, u32x4_splat(0)))
    }
}
