//! The x86 AVX2 driver the K-quants share: four rows at a time from quads, one float
//! lane per row. Per super-block, a format's step gives each row's exact integer sums
//! (`isum`, and `msum` for the formats with minimums) spread over the lanes of two
//! vectors, rows 0 and 1 in the halves of one and rows 2 and 3 of the other: the
//! quads keep each 16 bytes of a row beside the same 16 of the next, so one 256-bit
//! load takes two rows, and an activation's 16 bytes broadcast to both halves meet
//! both. Values are multiplied by `vpmaddubsw` (unsigned weights, signed
//! activations; pairs of products in i16) and the pairs by each row's sub-block scale
//! with `vpmaddwd` (i32), all exact. The float steps are the reference's, one lane per
//! row: `acc += (d_x * d_y) * isum`, `summs += (dmin_x * d_y) * msum`, `acc - summs`;
//! the AVX-512 kernel (`avx512_k`) shares them, with its own integer step.

use std::arch::x86_64::*;

use super::avx2::READ_AHEAD;
use crate::kernels::formats::{BlockFormat, BlockQ8_K};

/// A K-quant's step on AVX2.
pub trait Step: BlockFormat<Activation = BlockQ8_K> {
    /// The quad's four super-block scales and four scales of the minimums (zero for a
    /// format without) as f32.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn scales(quad: &Self::Quad) -> (__m128, __m128);
    /// The quad's rows times the activation super-block: `[i01, i23, m01, m23]`, the
    /// low four lanes of `i01` totalling row 0's `isum`, the high four row 1's, and
    /// so on (the `m`s zero for a format without minimums).
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn sums(quad: &Self::Quad, y: &BlockQ8_K) -> [__m256i; 4];
}

/// Four rows (as quads, one per super-block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_K], out: &mut [[f32; 4]]) {
    rows4::<B>(quads, ys, out, |x, y| totals(B::sums(x, y)))
}

/// Four rows (as quads, one per super-block) times each activation row of `ys`, the
/// rows' exact `([isum_0..4], [msum_0..4])` of a quad and an activation super-block
/// given by `sums`, inlined into a caller with the target features it needs.
///
/// # Safety
/// The CPU must have AVX2 and F16C, and what `sums` needs.
#[inline(always)]
pub unsafe fn rows4<B: Step>(
    quads: &[B::Quad],
    ys: &[BlockQ8_K],
    out: &mut [[f32; 4]],
    sums: impl Fn(&B::Quad, &BlockQ8_K) -> (__m128i, __m128i),
) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B>(quads, ys, &sums);
    }
}

/// Four rows times one activation row, asking for the memory [`READ_AHEAD`] of each
/// quad.
#[inline(always)]
unsafe fn dot4_row<B: Step>(
    quads: &[B::Quad],
    ys: &[BlockQ8_K],
    sums: &impl Fn(&B::Quad, &BlockQ8_K) -> (__m128i, __m128i),
) -> [f32; 4] {
    let (mut acc, mut summs) = (_mm_setzero_ps(), _mm_setzero_ps());
    for (x, y) in quads.iter().zip(ys) {
        // Hints: an address past the matrix is never read, and cannot fault.
        let ahead = (x as *const B::Quad as *const i8).wrapping_add(READ_AHEAD);
        for line in (0..std::mem::size_of::<B::Quad>()).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(line));
        }
        let (isum, msum) = sums(x, y);
        let (xd, xm) = B::scales(x);
        let yd = _mm_set1_ps(y.d);
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_mul_ps(xd, yd), _mm_cvtepi32_ps(isum)));
        if B::MINIMUMS {
            summs = _mm_add_ps(summs, _mm_mul_ps(_mm_mul_ps(xm, yd), _mm_cvtepi32_ps(msum)));
        }
    }
    let mut out = [0f32; 4];
    match B::MINIMUMS {
        true => _mm_storeu_ps(out.as_mut_ptr(), _mm_sub_ps(acc, summs)),
        false => _mm_storeu_ps(out.as_mut_ptr(), acc),
    }
    out
}

/// The rows' totals from [`Step::sums`]: `([isum_0..4], [msum_0..4])`, exact.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn totals([i01, i23, m01, m23]: [__m256i; 4]) -> (__m128i, __m128i) {
    // Halves [i0 i0 i2 i2 | i1 i1 i3 i3], the same for m, then [i0 i2 m0 m2 | i1 i3
    // m1 m3].
    let h = _mm256_hadd_epi32(_mm256_hadd_epi32(i01, i23), _mm256_hadd_epi32(m01, m23));
    let (lo, hi) = (_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    (_mm_unpacklo_epi32(lo, hi), _mm_unpackhi_epi32(lo, hi))
}

/// Two rows' eight bytes (16 bytes in all) as 16-bit lanes, unsigned (sub-block
/// scales, minimums), a row per 128-bit half.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn two_rows_u8(eights: &[[u8; 8]]) -> __m256i {
    _mm256_cvtepu8_epi16(_mm_loadu_si128(eights.as_ptr() as *const __m128i))
}

/// Two rows' eight bytes as 16-bit lanes, signed (Q6_K's scales).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn two_rows_i8(eights: &[[i8; 8]]) -> __m256i {
    _mm256_cvtepi8_epi16(_mm_loadu_si128(eights.as_ptr() as *const __m128i))
}

/// 16 bytes (activations at `p`, or 16-bit sums) in both 128-bit halves.
///
/// # Safety
/// The CPU must have AVX2; `p` must point at 16 readable bytes.
#[inline(always)]
pub unsafe fn both_halves<T>(p: *const T) -> __m256i {
    _mm256_broadcastsi128_si256(_mm_loadu_si128(p as *const __m128i))
}

/// Two rows' 16 bytes of chunk `chunk` (rows 0 and 1 for `pair` 0, 2 and 3 for 1).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn two_rows(chunk: &[[u8; 16]; 4], pair: usize) -> __m256i {
    _mm256_loadu_si256(chunk[2 * pair..].as_ptr() as *const __m256i)
}

/// Lane `k` of each row's eight 16-bit lanes (a row per 128-bit half) in all eight.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn lane(v: __m256i, k: usize) -> __m256i {
    let k = 2 * k as i16;
    _mm256_shuffle_epi8(v, _mm256_set1_epi16(k | (k + 1) << 8))
}

/// The activation super-block's sums of each 32 values (pairs of `bsums`), as eight
/// 16-bit lanes in both halves: exact (at most 32 * 127).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn bsum_pairs(y: &BlockQ8_K) -> __m256i {
    let b = y.bsums.as_ptr() as *const __m128i;
    let pairs = _mm_hadd_epi16(_mm_loadu_si128(b), _mm_loadu_si128(b.add(1)));
    _mm256_broadcastsi128_si256(pairs)
}

/// The top-bit byte `16` where bit `k` of `h`'s bytes is set, from `h` and `h4` (`h`
/// shifted four bits left in 16-bit lanes): the bit masked where it is 16 or more
/// (in `h4` for `k < 4`), and at most 16.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn bit_as_16(h: __m256i, h4: __m256i, k: usize) -> __m256i {
    let (bits, mask) = match k < 4 {
        true => (h4, 1u8 << (k + 4)),
        false => (h, 1u8 << k),
    };
    _mm256_min_epu8(
        _mm256_and_si256(bits, _mm256_set1_epi8(mask as i8)),
        _mm256_set1_epi8(16),
    )
}
