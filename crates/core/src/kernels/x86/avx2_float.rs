//! The x86 AVX2 driver the float formats share (F16, BF16, F32): two rows at a time
//! from quads, in the reference's order. Each row has ggml's four accumulators of
//! eight lanes (`ggml_vec_dot_f16` on AVX2), value `8k + l` of each block into lane
//! `l` of accumulator `k`, so two rows take eight of the sixteen registers and the
//! activation block's four vectors are loaded once for both. A format's [`Step`]
//! makes f32s of a row's block in that order; products are fused into the sums for
//! F16 (exact products), multiplied then added for the others. The accumulators are
//! added up as `GGML_F32x8_REDUCE` does.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use super::avx2;
use crate::kernels::formats::{Float, QuadFloat, Rounded, QK};

/// Whether this CPU has AVX2, F16C and FMA.
pub fn available() -> bool {
    static FMA: OnceLock<bool> = OnceLock::new();
    avx2::available() && *FMA.get_or_init(|| is_x86_feature_detected!("fma"))
}

/// A float format's step on AVX2: how a row's block becomes f32.
pub trait Step: Float {
    /// A row's block (as its quad keeps it) as f32, values `8k..8k + 8` in vector `k`.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn values(row: &[Self; QK]) -> [__m256; 4];
}

/// `acc + w * y`, fused where the products are exact.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[inline(always)]
unsafe fn madd<T: Float>(w: __m256, y: __m256, acc: __m256) -> __m256 {
    match T::EXACT_PRODUCTS {
        true => _mm256_fmadd_ps(w, y, acc),
        false => _mm256_add_ps(acc, _mm256_mul_ps(w, y)),
    }
}

/// Four rows (as quads, one per block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
///
/// # Safety
/// The CPU must have AVX2, F16C and FMA.
#[target_feature(enable = "avx2,f16c,fma")]
pub unsafe fn dot4<T: Step>(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        let [a, b] = pair(quads, 0, ys);
        let [c, d] = pair(quads, 2, ys);
        *out = [a, b, c, d];
    }
}

/// Rows `first` and `first + 1` of the quads times one activation row.
#[inline(always)]
unsafe fn pair<T: Step>(quads: &[QuadFloat<T>], first: usize, ys: &[Rounded<T>]) -> [f32; 2] {
    let mut acc = [[_mm256_setzero_ps(); 4]; 2];
    for (x, y) in quads.iter().zip(ys) {
        // Spelt out: `array::from_fn` would not inline the intrinsics.
        let y8 = [
            _mm256_load_ps(&y.values[0]),
            _mm256_load_ps(&y.values[8]),
            _mm256_load_ps(&y.values[16]),
            _mm256_load_ps(&y.values[24]),
        ];
        for (row, acc) in x.rows[first..].iter().zip(&mut acc) {
            let w = T::values(row);
            for k in 0..4 {
                acc[k] = madd::<T>(w[k], y8[k], acc[k]);
            }
        }
    }
    [reduce(acc[0]), reduce(acc[1])]
}

/// A row's four accumulators added up as `GGML_F32x8_REDUCE` does: `a0 + a2` and
/// `a1 + a3`, added, then its eight lanes by [`sum8`].
///
/// # Safety
/// The CPU must have AVX.
#[inline(always)]
unsafe fn reduce([a0, a1, a2, a3]: [__m256; 4]) -> f32 {
    sum8(_mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3)))
}

/// Eight lanes added as ggml's AVX horizontal sum does: `t = l[0..4] + l[4..8]`,
/// then `(t0 + t1) + (t2 + t3)`.
///
/// # Safety
/// The CPU must have AVX.
#[inline(always)]
pub unsafe fn sum8(l: __m256) -> f32 {
    let t = _mm_add_ps(_mm256_castps256_ps128(l), _mm256_extractf128_ps::<1>(l));
    let pairs = _mm_hadd_ps(t, t);
    _mm_cvtss_f32(_mm_hadd_ps(pairs, pairs))
}
