//! The wasm simd128 driver every weight format shares: four rows at a time from
//! quads, per row eight float lanes (as two halves); the four rows' scales are
//! converted and multiplied in one vector, and each activation block is prepared once
//! for the four rows. The formats give how they prepare it, their scales and their
//! integer sums.

use std::arch::wasm32::*;

use super::blocks::{BlockQ8_1, WeightBlock};
use super::dot::finish;

/// A weight block format's step on simd128.
pub trait Step: WeightBlock {
    /// An activation block's values as this format wants them, once for all rows.
    fn widen(y: &BlockQ8_1) -> [v128; 4];
    /// The quad's four `d_x * d_y`; a format with minimums adds its four
    /// `m_x * s_y` to `summs`.
    fn scales(quad: &Self::Quad, y: &BlockQ8_1, summs: &mut v128) -> v128;
    /// Row `r`'s eight exact sums of four products (values 0-15 as `low`, 16-31 as
    /// `high`), `y16` being `widen(y)`.
    fn sums(quad: &Self::Quad, r: usize, y16: &[v128; 4]) -> (v128, v128);
}

/// Four f16 values as f32, exactly as `blocks::f16_to_f32` converts one.
#[inline(always)]
pub fn f16x4(h: &[u16; 4]) -> v128 {
    // SAFETY: four u16 are read from four.
    let h = unsafe { u32x4_load_extend_u16x4(h.as_ptr()) };
    let bits = i32x4_shl(v128_and(h, u32x4_splat(0x7FFF)), 13);
    let magnitude = f32x4_mul(bits, f32x4_splat(f32::from_bits(0x7780_0000)));
    v128_or(magnitude, i32x4_shl(v128_and(h, u32x4_splat(0x8000)), 16))
}

/// Lane `r` of `v` in all four lanes.
#[inline(always)]
fn lane(v: v128, r: usize) -> v128 {
    match r {
        0 => i32x4_shuffle::<0, 0, 0, 0>(v, v),
        1 => i32x4_shuffle::<1, 1, 1, 1>(v, v),
        2 => i32x4_shuffle::<2, 2, 2, 2>(v, v),
        _ => i32x4_shuffle::<3, 3, 3, 3>(v, v),
    }
}

/// Four rows (as quads, one per block) times one activation row.
pub fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> [f32; 4] {
    let zero = f32x4_splat(0.0);
    let (mut low_lanes, mut high_lanes, mut summs) = ([zero; 4], [zero; 4], zero);
    for (quad, y) in quads.iter().zip(ys) {
        let y16 = B::widen(y);
        let d = B::scales(quad, y, &mut summs);
        for r in 0..4 {
            let (low, high) = B::sums(quad, r, &y16);
            let d = lane(d, r);
            low_lanes[r] = f32x4_add(low_lanes[r], f32x4_mul(d, f32x4_convert_i32x4(low)));
            high_lanes[r] = f32x4_add(high_lanes[r], f32x4_mul(d, f32x4_convert_i32x4(high)));
        }
    }
    let mut lanes = [[0f32; 8]; 4];
    let mut summs_out = [0f32; 4];
    // SAFETY: each store writes four floats into four.
    unsafe {
        for (r, lanes) in lanes.iter_mut().enumerate() {
            v128_store(lanes.as_mut_ptr() as *mut v128, low_lanes[r]);
            v128_store(lanes.as_mut_ptr().add(4) as *mut v128, high_lanes[r]);
        }
        v128_store(summs_out.as_mut_ptr() as *mut v128, summs);
    }
    std::array::from_fn(|r| finish(lanes[r], summs_out[r]))
}
