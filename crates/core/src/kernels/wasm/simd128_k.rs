//! The wasm simd128 driver the K-quants share: four rows at a time from quads, one
//! float lane per row. Per super-block, each activation's sixteens are prepared once
//! for the four rows; a format's step gives a row's exact integer sums (`isum`, and
//! `msum` for the formats with minimums) in four lanes each, the four rows' are
//! gathered into a lane per row, and the float steps are the reference's:
//! `acc += (d_x * d_y) * isum`, `summs += (dmin_x * d_y) * msum`, `acc - summs`.
//!
//! A quad keeps each 16 bytes of a row together, so a row's chunk is one load. Its
//! values (unsigned, below 64) meet 16 activations in [`dot16`]: as i16 by parity
//! with `i32x4.dot_i16x8_s` in the plain build, or in one relaxed dot (the values
//! are valid i7, so every engine gives the exact sums) with `relaxed-simd`; the
//! products are then multiplied by the group's scale in i32, exact.

use std::arch::wasm32::*;

use super::simd128::totals;
use crate::kernels::formats::{BlockFormat, BlockQ8_K};

/// A K-quant's step on simd128.
pub trait Step: BlockFormat<Activation = BlockQ8_K> {
    /// The quad's four super-block scales and four scales of the minimums (zero for a
    /// format without) as f32.
    fn scales(quad: &Self::Quad) -> (v128, v128);
    /// Row `r`'s sums with the activation super-block: four lanes totalling its
    /// `isum`, and four its `msum` (zero for a format without minimums).
    fn sums(quad: &Self::Quad, r: usize, y: &Prepared) -> (v128, v128);
}

/// 16 activations as [`dot16`] takes them: widened to i16, even then odd positions.
#[cfg(not(feature = "relaxed-simd"))]
pub type Y16 = [v128; 2];
/// 16 activations as [`dot16`] takes them: as they are.
#[cfg(feature = "relaxed-simd")]
pub type Y16 = v128;

/// An activation super-block prepared once for four rows.
pub struct Prepared {
    /// `y[g]`: values `16g..16g + 16`.
    pub y: [Y16; 16],
    /// The sums of each 16 as i16, `bsums[h]` those of values `128h..128h + 128`.
    pub bsums: [v128; 2],
    /// The sums of each 32 as i16 (exact: at most 32 * 127).
    pub pairs: v128,
}

impl Prepared {
    #[inline(always)]
    fn of(y: &BlockQ8_K) -> Self {
        let p = y.qs.as_ptr() as *const v128;
        let b = y.bsums.as_ptr() as *const v128;
        // SAFETY: 16 vectors are read from 256 bytes, two from 16 i16.
        let (values, bsums) = unsafe {
            let values: [v128; 16] = std::array::from_fn(|g| v128_load(p.add(g)));
            (values, [v128_load(b), v128_load(b.add(1))])
        };
        let pairs = i16x8_narrow_i32x4(
            i32x4_extadd_pairwise_i16x8(bsums[0]),
            i32x4_extadd_pairwise_i16x8(bsums[1]),
        );
        #[cfg(not(feature = "relaxed-simd"))]
        let values = values.map(|v| [i16x8_shr(i16x8_shl(v, 8), 8), i16x8_shr(v, 8)]);
        Prepared {
            y: values,
            bsums,
            pairs,
        }
    }
}

/// `acc` plus the products of 16 unsigned values (bytes within 0..=127) and 16
/// activations, in four lanes: exact.
#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
pub fn dot16(u: v128, y: &Y16, acc: v128) -> v128 {
    let even = v128_and(u, u16x8_splat(0x00FF));
    let odd = u16x8_shr(u, 8);
    i32x4_add(
        acc,
        i32x4_add(i32x4_dot_i16x8(even, y[0]), i32x4_dot_i16x8(odd, y[1])),
    )
}

/// `acc` plus the products of 16 unsigned values (bytes within 0..=127, so exact on
/// every engine) and 16 activations, in four lanes: relaxed SIMD's dot.
#[cfg(feature = "relaxed-simd")]
#[inline(always)]
pub fn dot16(u: v128, y: &Y16, acc: v128) -> v128 {
    i32x4_relaxed_dot_i8x16_i7x16_add(*y, u, acc)
}

/// Row `r`'s 16 bytes of a quad's chunk.
#[inline(always)]
pub fn row16(chunk: &[[u8; 16]; 4], r: usize) -> v128 {
    // SAFETY: 16 bytes are read from 16.
    unsafe { v128_load(chunk[r].as_ptr() as *const v128) }
}

/// Four rows (as quads, one per super-block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_K], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B>(quads, ys);
    }
}

/// Four rows times one activation row.
#[inline(always)]
fn dot4_row<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_K]) -> [f32; 4] {
    let (mut acc, mut summs) = (f32x4_splat(0.0), f32x4_splat(0.0));
    for (x, y) in quads.iter().zip(ys) {
        let prepared = Prepared::of(y);
        let sums: [(v128, v128); 4] = std::array::from_fn(|r| B::sums(x, r, &prepared));
        let (xd, xm) = B::scales(x);
        let yd = f32x4_splat(y.d);
        let isum = f32x4_convert_i32x4(totals(sums.map(|s| s.0)));
        acc = f32x4_add(acc, f32x4_mul(f32x4_mul(xd, yd), isum));
        if B::MINIMUMS {
            let msum = f32x4_convert_i32x4(totals(sums.map(|s| s.1)));
            summs = f32x4_add(summs, f32x4_mul(f32x4_mul(xm, yd), msum));
        }
    }
    let result = match B::MINIMUMS {
        true => f32x4_sub(acc, summs),
        false => acc,
    };
    let mut out = [0f32; 4];
    // SAFETY: four floats are written into four.
    unsafe { v128_store(out.as_mut_ptr() as *mut v128, result) };
    out
}
