//! The x86 kernel for one activation row (a decode step) where the CPU has AVX-512
//! VNNI, both formats: sixteen rows (four quads) per block at a time. Each quad
//! gives its four rows' partial sums in one 512-bit vector, row `r` in 128-bit lane
//! `r` (a format's [`Step16`]); a 4×4 transpose of dwords within the lanes then adds
//! each row's four partial sums into a lane of its own (lane `4r + q` for row `r` of
//! quad `q`), where the AVX2 driver gathers four rows with three `vphaddd`s. The
//! scales come in the same order, the float steps are the reference's, one lane per
//! row, and the sixteen results are put back in row order once at the end. The next
//! sixteen rows are asked for as these are read (prefetch).

use std::arch::x86_64::*;

use crate::kernels::formats::{BlockFormat, BlockQ8_1};
use crate::kernels::rows::put;

/// A weight block format's step on this kernel.
pub trait Step16: BlockFormat {
    /// An activation block as the format's `partials` takes it.
    type Y: Copy;
    /// # Safety
    /// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
    unsafe fn activation(y: &BlockQ8_1) -> Self::Y;
    /// The quad's rows times the activation block: in 128-bit lane `r`, four partial
    /// sums whose total is row `r`'s exact block sum.
    ///
    /// # Safety
    /// As for `activation`.
    unsafe fn partials(quad: &Self::Quad, y: Self::Y) -> __m512i;
    /// The four quads' scales and minimums (zero for a format without) as f32, row
    /// `r` of quad `q` in lane `4r + q`.
    ///
    /// # Safety
    /// As for `activation`.
    unsafe fn scales(quads: [&Self::Quad; 4]) -> (__m512, __m512);
}

/// The rows of `quads` (fours of rows one after another, as
/// `WeightBlock::dot_rows` takes them) times one activation row `ys` into `out`,
/// sixteen rows at a time. Returns how many fours of rows it did; the caller does
/// the last fours (if any).
///
/// # Safety
/// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
pub unsafe fn dot_rows<B: Step16>(
    quads: &[B::Quad],
    ys: &[BlockQ8_1],
    out: &mut [f32],
    rows: usize,
) -> usize {
    let fours = rows.div_ceil(4);
    let per_row = ys.len();
    let sixteens = quads[..fours / 4 * 4 * per_row].chunks_exact(4 * per_row);
    let g = 4 * sixteens.len();
    for (i, sixteen) in sixteens.enumerate() {
        put(out, rows, 16 * i, &[dot16::<B>(sixteen, ys)]);
    }
    g
}

/// Lane `4r + q` holds row `4q + r`, and the other way round: the permutation
/// between lane order and row order (its own inverse).
pub const LANE_ORDER: [i32; 16] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

/// Sixteen rows (four fours of `quads`, one per block each) times one activation row.
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni")]
unsafe fn dot16<B: Step16>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> [f32; 16] {
    let per_row = ys.len();
    let share = 4 * std::mem::size_of::<B::Quad>();
    let (mut acc, mut summs) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for (b, y) in ys.iter().enumerate() {
        // The next sixteen rows, a block's share of their bytes per block: hints,
        // and an address past the matrix is never read and cannot fault.
        let next = (quads.as_ptr_range().end as *const i8).wrapping_add(b * share);
        for line in (0..share).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(line));
        }
        let q: [&B::Quad; 4] = std::array::from_fn(|i| &quads[i * per_row + b]);
        let y8 = B::activation(y);
        let [a, b, c, d] = q.map(|q| B::partials(q, y8));
        // Per 128-bit lane r: [a0 + a2, b0 + b2, a1 + a3, b1 + b3], the same for c and
        // d, then [Σa, Σb, Σc, Σd]: exact integer sums.
        let pairs =
            |a, b| _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
        let (ab, cd) = (pairs(a, b), pairs(c, d));
        let sums = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
        let (xd, xm) = B::scales(q);
        let dd = _mm512_mul_ps(xd, _mm512_set1_ps(y.d));
        acc = _mm512_add_ps(acc, _mm512_mul_ps(dd, _mm512_cvtepi32_ps(sums)));
        if B::MINIMUMS {
            summs = _mm512_add_ps(summs, _mm512_mul_ps(xm, _mm512_set1_ps(y.s)));
        }
    }
    let order = _mm512_loadu_si512(LANE_ORDER.as_ptr() as *const _);
    let mut out = [0f32; 16];
    _mm512_storeu_ps(
        out.as_mut_ptr(),
        _mm512_permutexvar_ps(order, _mm512_add_ps(acc, summs)),
    );
    out
}
