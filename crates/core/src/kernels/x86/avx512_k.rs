//! The x86 kernel the K-quants use where the CPU has AVX-512 VNNI (decode steps and
//! prompts): the AVX2 driver's four rows and float steps (`avx2_k`), with a quad's
//! four rows in one 512-bit vector, row `r` in 128-bit lane `r` (a quad keeps each 16
//! bytes of its rows side by side, so one load takes 16 of each). A format's
//! [`Step512`] gives each row's partial `isum`s (and `msum`s) in its lane, and two
//! shuffles add them. Values are multiplied by `vpmaddubsw` and the pairs by the
//! rows' sub-block scales with `vpdpwssd`, all exact.
//!
//! Unlike the 32-value formats' `avx512_decode`, it takes one four of rows at a time
//! rather than sixteen: a K-quant quad is 600 to 840 bytes, and reading four fours
//! side by side (four streams) halved the speed of a decode step whose weights come
//! from memory, with no gain in cache.

use std::arch::x86_64::*;

use super::avx2_k::{self, rows4};
use crate::kernels::formats::BlockQ8_K;

/// A K-quant's step on this kernel (its scales are its AVX2 step's).
pub trait Step512: avx2_k::Step {
    /// The quad's rows times the activation super-block: in 128-bit lane `r`, four
    /// partial sums whose total is row `r`'s exact `isum`, and the same for `msum`
    /// (zero for a format without minimums).
    ///
    /// # Safety
    /// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
    unsafe fn partials(quad: &Self::Quad, y: &BlockQ8_K) -> (__m512i, __m512i);
}

/// Four rows (as quads, one per super-block) times each activation row of `ys`
/// (`out.len()` rows of `quads.len()` blocks).
///
/// # Safety
/// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni")]
pub unsafe fn dot4<B: Step512>(quads: &[B::Quad], ys: &[BlockQ8_K], out: &mut [[f32; 4]]) {
    rows4::<B>(quads, ys, out, |x, y| {
        let (isum, msum) = B::partials(x, y);
        totals(isum, msum)
    })
}

/// Each row's total of its lane's four partial sums, for both vectors: `([isum_0..4],
/// [msum_0..4])`, exact.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[inline(always)]
unsafe fn totals(isum: __m512i, msum: __m512i) -> (__m128i, __m128i) {
    // Pairs of dwords, then pairs of pairs: every dword of lane r holds row r's total.
    let total = |v: __m512i| {
        let v = _mm512_add_epi32(v, _mm512_shuffle_epi32::<0b10_11_00_01>(v));
        _mm512_add_epi32(v, _mm512_shuffle_epi32::<0b01_00_11_10>(v))
    };
    let firsts = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    let both = _mm512_permutex2var_epi32(total(isum), firsts, total(msum));
    (
        _mm512_castsi512_si128(both),
        _mm512_extracti32x4_epi32::<1>(both),
    )
}

/// A chunk's 64 bytes, row `r`'s 16 in 128-bit lane `r`.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[inline(always)]
pub unsafe fn quarters(chunk: &[[u8; 16]; 4]) -> __m512i {
    _mm512_loadu_si512(chunk.as_ptr() as *const _)
}

/// 16 activations (at `p`) in every 128-bit lane.
///
/// # Safety
/// The CPU must have AVX-512 F; `p` must point at 16 readable bytes.
#[inline(always)]
pub unsafe fn every_lane<T>(p: *const T) -> __m512i {
    _mm512_broadcast_i32x4(_mm_loadu_si128(p as *const __m128i))
}

/// Four rows' eight bytes as 16-bit lanes, unsigned, row `r` in 128-bit lane `r`.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[inline(always)]
pub unsafe fn four_rows_u8(eights: &[[u8; 8]; 4]) -> __m512i {
    _mm512_cvtepu8_epi16(_mm256_loadu_si256(eights.as_ptr() as *const __m256i))
}

/// Four rows' eight bytes as 16-bit lanes, signed, row `r` in 128-bit lane `r`.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[inline(always)]
pub unsafe fn four_rows_i8(eights: &[[i8; 8]; 4]) -> __m512i {
    _mm512_cvtepi8_epi16(_mm256_loadu_si256(eights.as_ptr() as *const __m256i))
}

/// Lane `k` of each row's eight 16-bit lanes (a row per 128-bit lane) in all eight.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[inline(always)]
pub unsafe fn lane16(v: __m512i, k: usize) -> __m512i {
    let k = 2 * k as i16;
    _mm512_shuffle_epi8(v, _mm512_set1_epi16(k | (k + 1) << 8))
}
