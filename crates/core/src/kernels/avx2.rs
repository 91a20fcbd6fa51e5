//! The x86 AVX2 driver every weight format shares: four rows at a time from quads,
//! per row eight float lanes; the four rows' scales are converted (F16C) and
//! multiplied in one vector, and each activation block is loaded once for the four
//! rows; against several activation rows (a prompt), each quad is unpacked once for
//! all of them. The formats give their scales, how they unpack a row, and their
//! integer sums.

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
    /// The quad's four scales and four minimums (zero for a format without) as f32.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn scales(quad: &Self::Quad) -> (__m128, __m128);
    /// Row `r`'s 32 values as the format's `sums` takes them.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn unpack(quad: &Self::Quad, r: usize) -> __m256i;
    /// A row's eight exact sums of four products, from `w = unpack(..)` and `y8`,
    /// an activation block's 32 values.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn sums(w: __m256i, y8: __m256i) -> __m256i;
}

/// A quad unpacked: four rows' values, their scales and minimums.
struct Unpacked {
    w: [__m256i; 4],
    d: __m128,
    m: __m128,
}

/// # Safety
/// The CPU must have AVX2 and F16C.
#[inline(always)]
unsafe fn unpacked<B: Step>(quad: &B::Quad) -> Unpacked {
    let (d, m) = B::scales(quad);
    Unpacked {
        w: std::array::from_fn(|r| B::unpack(quad, r)),
        d,
        m,
    }
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
/// (`out.len()` rows of `quads.len()` blocks): one row unpacks as it goes, several
/// share the quads unpacked once.
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    if let [out] = out {
        *out = dot4_row::<B, B::Quad>(quads, |q| B::scales(q), |q, r| B::unpack(q, r), ys);
        return;
    }
    let quads: Vec<Unpacked> = quads.iter().map(|q| unpacked::<B>(q)).collect();
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B, Unpacked>(&quads, |u| (u.d, u.m), |u, r| u.w[r], ys);
    }
}

/// Four rows (quads, one per block, as `scales` and `unpack` read them) times one
/// activation row.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot4_row<B: Step, Q>(
    quads: &[Q],
    scales: impl Fn(&Q) -> (__m128, __m128),
    unpack: impl Fn(&Q, usize) -> __m256i,
    ys: &[BlockQ8_1],
) -> [f32; 4] {
    let mut lanes = [_mm256_setzero_ps(); 4];
    let mut summs = _mm_setzero_ps();
    for (x, y) in quads.iter().zip(ys) {
        let y8 = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
        let (xd, xm) = scales(x);
        summs = _mm_add_ps(summs, _mm_mul_ps(xm, _mm_set1_ps(y.s)));
        let d = _mm256_castps128_ps256(_mm_mul_ps(xd, _mm_set1_ps(y.d)));
        for (r, lanes) in lanes.iter_mut().enumerate() {
            let d = _mm256_permutevar8x32_ps(d, _mm256_set1_epi32(r as i32));
            let sums = _mm256_cvtepi32_ps(B::sums(unpack(x, r), y8));
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
