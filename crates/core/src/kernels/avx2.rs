//! The x86 AVX2 driver every weight format shares: four rows at a time from quads,
//! per row eight float lanes; the four rows' scales are converted (F16C) and
//! multiplied in one vector, and each activation block is loaded once for the four
//! rows. The formats give their scales and their integer sums.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use super::blocks::{BlockQ8_1, WeightBlock};
use super::dot::finish;

/// Whether this CPU has AVX2 and F16C.
pub fn available() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"))
}

/// A weight block format's step on AVX2.
pub trait Step: WeightBlock {
    /// The quad's four `d_x * d_y`; a format with minimums adds its four
    /// `m_x * s_y` to `summs`.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn scales(quad: &Self::Quad, y: &BlockQ8_1, summs: &mut __m128) -> __m128;
    /// Row `r`'s eight exact sums of four products, `y8` being `y`'s 32 values.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn sums(quad: &Self::Quad, r: usize, y8: __m256i) -> __m256i;
}

/// Four f16 values as f32 (F16C: exact, like `blocks::f16_to_f32`).
///
/// # Safety
/// The CPU must have F16C.
#[inline(always)]
pub unsafe fn f16x4(h: &[u16; 4]) -> __m128 {
    _mm_cvtph_ps(_mm_loadl_epi64(h.as_ptr() as *const __m128i))
}

/// Four rows (as quads, one per block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B>(quads, ys);
    }
}

/// Four rows (as quads, one per block) times one activation row.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot4_row<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> [f32; 4] {
    let mut lanes = [_mm256_setzero_ps(); 4];
    let mut summs = _mm_setzero_ps();
    for (quad, y) in quads.iter().zip(ys) {
        let y8 = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
        let d = _mm256_castps128_ps256(B::scales(quad, y, &mut summs));
        for (r, lanes) in lanes.iter_mut().enumerate() {
            let d = _mm256_permutevar8x32_ps(d, _mm256_set1_epi32(r as i32));
            let sums = _mm256_cvtepi32_ps(B::sums(quad, r, y8));
            *lanes = _mm256_add_ps(*lanes, _mm256_mul_ps(d, sums));
        }
    }
    let mut out = [[0f32; 8]; 4];
    for (out, lanes) in out.iter_mut().zip(lanes) {
        _mm256_storeu_ps(out.as_mut_ptr(), lanes);
    }
    let mut summs_out = [0f32; 4];
    _mm_storeu_ps(summs_out.as_mut_ptr(), summs);
    std::array::from_fn(|r| finish(out[r], summs_out[r]))
}
