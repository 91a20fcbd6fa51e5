//! The x86 kernel for one activation row (a decode step) where the CPU has AVX-512
//! VNNI, every format: sixteen rows (four quads) per block at a time. Each quad
//! gives its four rows' partial sums in one 512-bit vector, row `r` in 128-bit lane
//! `r` (a format's [`Step16`]); a 4×4 transpose of dwords within the lanes then adds
//! each row's four partial sums into a lane of its own (lane `4r + q` for row `r` of
//! quad `q`), where the AVX2 driver gathers four rows with three `vphaddd`s. The
//! scales come in the same order, the float steps are the reference's, one lane per
//! row, and the sixteen results are put back in row order once at the end. The next
//! sixteen rows are asked for as these are read (prefetch).

use std::arch::x86_64::*;

use crate::kernels::formats::{Block32, BlockQ8_1, QK};
use crate::kernels::rows::put;

/// A 32-value weight format's step on this kernel.
pub trait Step16: Block32 {
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

/// Four quads' four f16 values each as f32, row `r` of quad `q` in lane `4r + q`.
///
/// # Safety
/// The CPU must have AVX2, F16C and AVX-512 F.
#[inline(always)]
pub unsafe fn f16_lanes(h: [&[u16; 4]; 4]) -> __m512 {
    let h = |i: usize| (h[i].as_ptr() as *const i64).read_unaligned();
    let rows = _mm512_cvtph_ps(_mm256_setr_epi64x(h(0), h(1), h(2), h(3)));
    let order = _mm512_loadu_si512(LANE_ORDER.as_ptr() as *const _);
    _mm512_permutexvar_ps(order, rows)
}

/// Four quads' scales and minimums as f32 in [`f16_lanes`]' order, from the 16 bytes
/// at each of `heads`: four f16 scales, then four minimums (where the quads of the
/// formats with minimums start).
///
/// # Safety
/// The CPU must have AVX2, F16C and AVX-512 F; each head must point at 16 readable
/// bytes.
#[inline(always)]
pub unsafe fn scales_and_minimums(heads: [*const u16; 4]) -> (__m512, __m512) {
    let head = |i: usize| _mm_loadu_si128(heads[i] as *const __m128i);
    // [d, m] of quads 0 and 1, and of quads 2 and 3.
    let lo = _mm512_cvtph_ps(_mm256_set_m128i(head(1), head(0)));
    let hi = _mm512_cvtph_ps(_mm256_set_m128i(head(3), head(2)));
    let d = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    let m = _mm512_add_epi32(d, _mm512_set1_epi32(4));
    (
        _mm512_permutex2var_ps(lo, d, hi),
        _mm512_permutex2var_ps(lo, m, hi),
    )
}

/// An activation block as the 4- and 5-bit formats' `partials` take it: its two
/// halves, each in every 128-bit lane, and where each lane's sums start (at
/// `-OFFSET * Σy` in all).
#[derive(Clone, Copy)]
pub struct Halves {
    first: __m512i,
    second: __m512i,
    start: __m512i,
}

impl Halves {
    /// # Safety
    /// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
    #[inline(always)]
    pub unsafe fn new(y: &BlockQ8_1, offset: i8) -> Self {
        let half = |h: usize| {
            _mm512_broadcast_i32x4(_mm_loadu_si128(y.qs[16 * h..].as_ptr() as *const __m128i))
        };
        let (first, second, zero) = (half(0), half(1), _mm512_setzero_si512());
        let start = match offset {
            0 => zero,
            _ => {
                let offset = _mm512_set1_epi8(offset);
                let excess = _mm512_dpbusd_epi32(zero, offset, first);
                _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(excess, offset, second))
            }
        };
        Halves {
            first,
            second,
            start,
        }
    }

    /// Four rows' unsigned values (row `r`'s values 0..16 in lane `r` of `low`,
    /// 16..32 in `high`) times the block: [`Step16::partials`].
    ///
    /// # Safety
    /// As for [`Halves::new`].
    #[inline(always)]
    pub unsafe fn partials(self, low: __m512i, high: __m512i) -> __m512i {
        let sums = _mm512_dpbusd_epi32(self.start, low, self.first);
        _mm512_dpbusd_epi32(sums, high, self.second)
    }
}

/// A quad's 64 bytes of nibbles in one load: row `r`'s values 0..16 (the low
/// nibbles) in lane `r` of the first vector, 16..32 in the second.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[inline(always)]
pub unsafe fn nibbles(qs: &[[u8; QK / 2]; 4]) -> (__m512i, __m512i) {
    let mask = _mm512_set1_epi8(0x0F);
    let v = _mm512_loadu_si512(qs.as_ptr() as *const _);
    (
        _mm512_and_si512(v, mask),
        _mm512_and_si512(_mm512_srli_epi16::<4>(v), mask),
    )
}

/// [`nibbles`]' values with their fifth bits (a quad's `qh`, as `formats::spread`
/// lays them out) added: 16 where set. Row `r`'s word is copied into lane `r`,
/// whose dword `k` finds values `4k..4k + 4` at bit `k` of its bytes and values
/// `16 + 4k..` at bit `4 + k`.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[inline(always)]
pub unsafe fn fifth_bits(qh: &[u32; 4], (low, high): (__m512i, __m512i)) -> (__m512i, __m512i) {
    let rows = _mm512_castsi128_si512(_mm_loadu_si128(qh.as_ptr() as *const __m128i));
    let each = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    let bits = _mm512_permutexvar_epi32(each, rows);
    let masks = _mm512_broadcast_i32x4(_mm_setr_epi32(
        0x0101_0101,
        0x0202_0202,
        0x0404_0404,
        0x0808_0808,
    ));
    let sixteen = _mm512_set1_epi8(16);
    let add = |values, masks| {
        let set = _mm512_test_epi8_mask(bits, masks);
        _mm512_mask_add_epi8(values, set, values, sixteen)
    };
    (add(low, masks), add(high, _mm512_slli_epi32::<4>(masks)))
}

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
