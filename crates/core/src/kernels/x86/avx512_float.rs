//! The x86 kernel the float formats use where the CPU has AVX-512: the AVX2 driver's
//! order (`avx2_float`) with all four rows at a time. A 512-bit accumulator holds two
//! of a row's four (ggml's `a0` and `a1` in its halves, then `a2` and `a3`), so four
//! rows take eight registers, stream through each quad in order, and load the
//! activation block once. The sums are the AVX2 driver's: `a0 + a2` beside
//! `a1 + a3` in one add, the halves added, then the eight lanes.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use super::avx2_float::{self, sum8};
use crate::kernels::formats::{Float, QuadFloat, Rounded, QK};

/// Whether this CPU also has AVX-512 F.
pub fn available() -> bool {
    static AVX512F: OnceLock<bool> = OnceLock::new();
    *AVX512F.get_or_init(|| is_x86_feature_detected!("avx512f"))
}

/// A float format's step on this kernel.
pub trait Step512: avx2_float::Step {
    /// A row's block (as its quad keeps it) as f32, values `0..16`, then `16..32`.
    ///
    /// # Safety
    /// The CPU must have AVX2, F16C and AVX-512 F.
    unsafe fn values16(row: &[Self; QK]) -> [__m512; 2];
}

/// `acc + w * y`, fused where the products are exact.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[inline(always)]
unsafe fn madd<T: Float>(w: __m512, y: __m512, acc: __m512) -> __m512 {
    match T::EXACT_PRODUCTS {
        true => _mm512_fmadd_ps(w, y, acc),
        false => _mm512_add_ps(acc, _mm512_mul_ps(w, y)),
    }
}

/// Four rows (as quads, one per block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
///
/// # Safety
/// The CPU must have AVX2, F16C, FMA and AVX-512 F.
#[target_feature(enable = "avx2,f16c,fma,avx512f")]
pub unsafe fn dot4<T: Step512>(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        // Row r's values 0..16 in acc[r][0], 16..32 in acc[r][1].
        let mut acc = [[_mm512_setzero_ps(); 2]; 4];
        for (x, y) in quads.iter().zip(ys) {
            let y16 = [_mm512_load_ps(&y.values[0]), _mm512_load_ps(&y.values[16])];
            for (row, acc) in x.rows.iter().zip(&mut acc) {
                let w = T::values16(row);
                acc[0] = madd::<T>(w[0], y16[0], acc[0]);
                acc[1] = madd::<T>(w[1], y16[1], acc[1]);
            }
        }
        for (out, [low, high]) in out.iter_mut().zip(acc) {
            // [a0 + a2 | a1 + a3], then a0 + a1.
            let s = _mm512_add_ps(low, high);
            let a1 = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(s)));
            *out = sum8(_mm256_add_ps(_mm512_castps512_ps256(s), a1));
        }
    }
}
