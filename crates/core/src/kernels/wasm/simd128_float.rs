//! The wasm simd128 driver the float formats share (F16, BF16, F32): one row at a
//! time from quads, in the reference's order. A row's 32 sums are eight vectors of
//! four lanes (ggml's accumulator `k` of eight lanes is vectors `2k` and `2k + 1`):
//! one row per pass keeps few vectors live, and the activation block is read again
//! for each row, from cache. A format's [`Step`] makes f32s of a row's block in that
//! order; products are multiplied then added, or fused by relaxed SIMD's
//! `relaxed_madd` for F16 (exact products, so fused or not, as the engine picks,
//! gives the same bits). The sums are added up as the reference adds them.

use std::arch::wasm32::*;

use crate::kernels::formats::{Float, QuadFloat, Rounded, QK};

/// A float format's step on simd128: how a row's block becomes f32.
pub trait Step: Float {
    /// Values `4j..4j + 4` of a row's block (as its quad keeps it) as f32: one vector
    /// at a time, as the driver uses them.
    fn four(row: &[Self; QK], j: usize) -> v128;
}

/// `acc + w * y`, fused (as the engine picks) where the products are exact and the
/// build has relaxed SIMD.
#[inline(always)]
fn madd<T: Float>(w: v128, y: v128, acc: v128) -> v128 {
    match cfg!(feature = "relaxed-simd") && T::EXACT_PRODUCTS {
        #[cfg(feature = "relaxed-simd")]
        true => f32x4_relaxed_madd(w, y, acc),
        _ => f32x4_add(acc, f32x4_mul(w, y)),
    }
}

/// Four rows (as quads, one per block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn dot4<T: Step>(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        for (r, out) in out.iter_mut().enumerate() {
            *out = row(quads, r, ys);
        }
    }
}

/// Row `r` of the quads times one activation row.
#[inline(always)]
fn row<T: Step>(quads: &[QuadFloat<T>], r: usize, ys: &[Rounded<T>]) -> f32 {
    let mut acc = [f32x4_splat(0.0); 8];
    for (x, y) in quads.iter().zip(ys) {
        for (j, (acc, y)) in acc.iter_mut().zip(y.values.as_chunks::<4>().0).enumerate() {
            // SAFETY: four floats are read from four.
            let y = unsafe { v128_load(y.as_ptr() as *const v128) };
            *acc = madd::<T>(T::four(&x.rows[r], j), y, *acc);
        }
    }
    // ggml's a0 + a2 and a1 + a3, added: four of the eight lanes per `h`.
    let half = |h: usize| {
        f32x4_add(
            f32x4_add(acc[h], acc[4 + h]),
            f32x4_add(acc[2 + h], acc[6 + h]),
        )
    };
    let t = f32x4_add(half(0), half(1));
    // [t0 + t1, _, t2 + t3, _], then (t0 + t1) + (t2 + t3).
    let pairs = f32x4_add(t, i32x4_shuffle::<1, 0, 3, 2>(t, t));
    f32x4_extract_lane::<0>(f32x4_add(pairs, i32x4_shuffle::<2, 3, 0, 1>(pairs, pairs)))
}
