//! The x86 AVX2 driver every weight format shares: four rows at a time from quads,
//! one float lane per row. Per block, each row's exact integer sum is gathered into
//! its lane, and the four rows' scales are converted (F16C), multiplied and added in
//! one vector; each activation block is loaded once for the four rows; against
//! several activation rows (a prompt), each quad is unpacked once for all of them.
//! The formats give their scales, how they unpack a row, and the unsigned and signed
//! bytes whose products make their integer sums: summed in fours by `vpmaddubsw` +
//! `vpmaddwd`, or by AVX-VNNI's `vpdpbusd` in one instruction where the CPU has it
//! (the same exact sums). A format whose values are multiplied unsigned, `OFFSET`
//! above the real ones, has `OFFSET * Σy` taken off each row's sum, once per
//! activation block for the four rows.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use crate::kernels::formats::{Block32, BlockQ8_1, QK};

/// How far ahead (bytes) a decode step asks for the weights it will read next: a
/// step streams every weight once, faster than the hardware prefetcher alone keeps
/// up with (4 KiB ahead made native decode about a third faster; more is no better).
pub const READ_AHEAD: usize = 4096;

/// Whether this CPU has AVX2 and F16C.
pub fn available() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"))
}

/// Whether this CPU also has AVX-VNNI.
pub fn vnni() -> bool {
    static VNNI: OnceLock<bool> = OnceLock::new();
    *VNNI.get_or_init(|| is_x86_feature_detected!("avxvnni"))
}

/// Whether this CPU also has AVX-512 (F, BW) with VNNI.
pub fn avx512() -> bool {
    static AVX512: OnceLock<bool> = OnceLock::new();
    *AVX512.get_or_init(|| {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    })
}

/// A 32-value weight format's step on AVX2.
pub trait Step: Block32 {
    /// The quad's four scales and four minimums (zero for a format without) as f32.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn scales(quad: &Self::Quad) -> (__m128, __m128);
    /// Row `r`'s 32 values as the format's `operands` takes them.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn unpack(quad: &Self::Quad, r: usize) -> __m256i;
    /// Unsigned and signed bytes whose 32 products sum to the row's exact block sum
    /// (plus `OFFSET * Σy`), from `w = unpack(..)` and `y8`, an activation block's 32
    /// values. Pairs of products, less `OFFSET` times pairs of `y8`, must fit in i16
    /// (`vpmaddubsw` saturates). By default the values as they are (unsigned, below
    /// 32: pairs within ±2*31*128) times `y8`.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    #[inline(always)]
    unsafe fn operands(w: __m256i, y8: __m256i) -> (__m256i, __m256i) {
        (w, y8)
    }

    /// A prompt's product on a kernel that takes more than four rows at once, where
    /// the format has one (as `WeightBlock::dot_rows` takes it): how many fours of
    /// rows it did (the rest go four at a time). None by default.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn prompt_rows(
        _quads: &[Self::Quad],
        _ys: &[BlockQ8_1],
        _out: &mut [f32],
        _rows: usize,
    ) -> usize {
        0
    }
}

/// A block's 16 bytes of nibbles as 32 bytes in value order (the low nibbles, then
/// the high ones).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn nibbles(qs: &[u8; QK / 2]) -> __m256i {
    let mask = _mm_set1_epi8(0x0F);
    let q = _mm_loadu_si128(qs.as_ptr() as *const __m128i);
    let lo = _mm_and_si128(q, mask);
    let hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
    _mm256_set_m128i(hi, lo)
}

/// Values in order with their fifth bits (`qh` as `formats::spread` lays it out)
/// added: 16 where set. Lane `k` of the word's copies finds values `4k..4k + 4` at
/// bit `k` of its bytes.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn fifth_bits(qh: u32, values: __m256i) -> __m256i {
    let masks = _mm256_setr_epi32(
        0x0101_0101,
        0x0202_0202,
        0x0404_0404,
        0x0808_0808,
        0x1010_1010,
        0x2020_2020,
        0x4040_4040,
        0x8080_8080u32 as i32,
    );
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_set1_epi32(qh as i32), masks), masks);
    _mm256_or_si256(values, _mm256_and_si256(set, _mm256_set1_epi8(16)))
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
    // Spelt out: `array::from_fn` or `map` would not inline the intrinsics.
    let w = [
        B::unpack(quad, 0),
        B::unpack(quad, 1),
        B::unpack(quad, 2),
        B::unpack(quad, 3),
    ];
    Unpacked { w, d, m }
}

/// Four f16 values as f32 (F16C: exact, like `formats::f16_to_f32`).
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
pub unsafe fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    match vnni() {
        true => dot4_vnni::<B>(quads, ys, out),
        false => dot4_avx2::<B>(quads, ys, out),
    }
}

/// [`dot4`] summing with `vpmaddubsw` + `vpmaddwd`.
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot4_avx2<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    dot4_on::<B, false>(quads, ys, out)
}

/// [`dot4`] summing with `vpdpbusd`.
#[target_feature(enable = "avx2,f16c,avxvnni")]
unsafe fn dot4_vnni<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    dot4_on::<B, true>(quads, ys, out)
}

/// [`dot4`] summing with `vpdpbusd` when `VNNI`, inlined into a caller with the
/// target features that asks for.
#[inline(always)]
unsafe fn dot4_on<B: Step, const VNNI: bool>(
    quads: &[B::Quad],
    ys: &[BlockQ8_1],
    out: &mut [[f32; 4]],
) {
    if let [out] = out {
        let (scales, unpack) = (|q: &_| B::scales(q), |q: &_, r| B::unpack(q, r));
        *out = dot4_row::<B, B::Quad, VNNI, true>(quads, scales, unpack, ys);
        return;
    }
    let quads: Vec<Unpacked> = quads.iter().map(|q| unpacked::<B>(q)).collect();
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B, Unpacked, VNNI, false>(&quads, |u| (u.d, u.m), |u, r| u.w[r], ys);
    }
}

/// Four rows (quads, one per block, as `scales` and `unpack` read them) times one
/// activation row, asking for the memory [`READ_AHEAD`] of each quad when `AHEAD`.
#[inline(always)]
unsafe fn dot4_row<B: Step, Q, const VNNI: bool, const AHEAD: bool>(
    quads: &[Q],
    scales: impl Fn(&Q) -> (__m128, __m128),
    unpack: impl Fn(&Q, usize) -> __m256i,
    ys: &[BlockQ8_1],
) -> [f32; 4] {
    let (mut acc, mut summs) = (_mm_setzero_ps(), _mm_setzero_ps());
    let (zero, offset) = (_mm256_setzero_si256(), _mm256_set1_epi8(B::OFFSET));
    for (x, y) in quads.iter().zip(ys) {
        if AHEAD {
            // A hint: an address past the matrix is never read, and cannot fault.
            _mm_prefetch::<_MM_HINT_T0>((x as *const Q as *const i8).wrapping_add(READ_AHEAD));
        }
        let y8 = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
        let (xd, xm) = scales(x);
        let operands = |r| B::operands(unpack(x, r), y8);
        let sums: [__m256i; 4] = match VNNI {
            true => {
                // Each row's sums start at -OFFSET * Σy (over the lanes).
                let start = match B::OFFSET {
                    0 => zero,
                    _ => _mm256_sub_epi32(zero, _mm256_dpbusd_avx_epi32(zero, offset, y8)),
                };
                std::array::from_fn(|r| {
                    let (u, s) = operands(r);
                    _mm256_dpbusd_avx_epi32(start, u, s)
                })
            }
            false => {
                let excess = _mm256_maddubs_epi16(offset, y8);
                std::array::from_fn(|r| {
                    let (u, s) = operands(r);
                    let pairs = match B::OFFSET {
                        0 => _mm256_maddubs_epi16(u, s),
                        _ => _mm256_sub_epi16(_mm256_maddubs_epi16(u, s), excess),
                    };
                    _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
                })
            }
        };
        let d = _mm_mul_ps(xd, _mm_set1_ps(y.d));
        acc = _mm_add_ps(acc, _mm_mul_ps(d, _mm_cvtepi32_ps(totals(sums))));
        if B::MINIMUMS {
            summs = _mm_add_ps(summs, _mm_mul_ps(xm, _mm_set1_ps(y.s)));
        }
    }
    let mut out = [0f32; 4];
    _mm_storeu_ps(out.as_mut_ptr(), _mm_add_ps(acc, summs));
    out
}

/// The totals of four vectors' eight lanes, in order: `[Σa, Σb, Σc, Σd]`.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn totals([a, b, c, d]: [__m256i; 4]) -> __m128i {
    let all = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    _mm_add_epi32(
        _mm256_castsi256_si128(all),
        _mm256_extracti128_si256(all, 1),
    )
}

/// `max|x|` of 32 values, the values as `round_half_even(x * 127 / max|x|)` into
/// `qs`, and their sum: `blocks::round_block` in eight lanes (max is exact in any
/// order, `vroundps` rounds half to even).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn round_block(xs: &[f32; QK], qs: &mut [i8; QK]) -> (f32, i32) {
    let v: [__m256; 4] = std::array::from_fn(|i| _mm256_loadu_ps(xs.as_ptr().add(8 * i)));
    let abs = |v| _mm256_andnot_ps(_mm256_set1_ps(-0.0), v);
    let max = v
        .iter()
        .fold(_mm256_setzero_ps(), |m, &v| _mm256_max_ps(m, abs(v)));
    let max = _mm_max_ps(_mm256_castps256_ps128(max), _mm256_extractf128_ps(max, 1));
    let max = _mm_max_ps(max, _mm_movehl_ps(max, max));
    let max = _mm_cvtss_f32(_mm_max_ss(max, _mm_movehdup_ps(max)));
    let id = _mm256_set1_ps(if max != 0.0 { 127.0 / max } else { 0.0 });
    const NEAREST: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    let q = v.map(|v| _mm256_cvtps_epi32(_mm256_round_ps::<NEAREST>(_mm256_mul_ps(v, id))));
    let sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    let sum = _mm_add_epi32(
        _mm256_castsi256_si128(sum),
        _mm256_extracti128_si256(sum, 1),
    );
    let sum = _mm_add_epi32(sum, _mm_unpackhi_epi64(sum, sum));
    let sum = _mm_cvtsi128_si32(_mm_add_epi32(sum, _mm_shuffle_epi32(sum, 1)));
    // The packs work within halves: values 0-3, 8-11, 16-19, 24-27, then 4-7, ...
    let bytes = _mm256_packs_epi16(
        _mm256_packs_epi32(q[0], q[1]),
        _mm256_packs_epi32(q[2], q[3]),
    );
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let bytes = _mm256_permutevar8x32_epi32(bytes, order);
    _mm256_storeu_si256(qs.as_mut_ptr() as *mut __m256i, bytes);
    (max, sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::formats::{
        quantize_q8_1_reference, BlockFormat, BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0,
    };

    /// Both ways of summing, where this CPU has them, equal the reference bit for bit,
    /// every format: one activation row, and two at once.
    #[test]
    fn both_ways_of_summing_equal_the_reference() {
        if available() {
            check::<BlockQ4_0>(BlockQ4_0::BYTES);
            check::<BlockQ4_1>(BlockQ4_1::BYTES);
            check::<BlockQ5_0>(BlockQ5_0::BYTES);
            check::<BlockQ5_1>(BlockQ5_1::BYTES);
            check::<BlockQ8_0>(BlockQ8_0::BYTES);
        }
    }

    type Driver<B> = unsafe fn(&[<B as BlockFormat>::Quad], &[BlockQ8_1], &mut [[f32; 4]]);

    fn check<B: Step>(bytes: usize) {
        let n = 6;
        // Small finite f16 scales (and Q4_1 minimums) at bytes 1 and 3, made-up values.
        let data: Vec<u8> = (0..4 * n * bytes)
            .map(|i| match i % bytes {
                1 | 3 => 0x2C,
                _ => (i * 131 % 251) as u8,
            })
            .collect();
        let rows: Vec<Vec<B>> = data
            .chunks(n * bytes)
            .map(|row| row.chunks(bytes).map(B::read).collect())
            .collect();
        let x: Vec<f32> = (0..2 * n * QK)
            .map(|i| ((i * 17 % 29) as f32 - 14.0) / 7.0)
            .collect();
        let mut ys = vec![BlockQ8_1::default(); 2 * n];
        quantize_q8_1_reference(&x, &mut ys);
        let quads = B::quads([&rows[0], &rows[1], &rows[2], &rows[3]]);
        let drivers: [(bool, Driver<B>); 2] = [(true, dot4_avx2::<B>), (vnni(), dot4_vnni::<B>)];
        for (_, driver) in drivers.iter().filter(|(on_this_cpu, _)| *on_this_cpu) {
            let mut out = [[0f32; 4]; 2];
            // SAFETY: the CPU has AVX2 and F16C, and AVX-VNNI for the second driver.
            unsafe { driver(&quads, &ys, &mut out) };
            for (ys, out) in ys.chunks(n).zip(out) {
                let mut alone = [[0f32; 4]];
                // SAFETY: as above.
                unsafe { driver(&quads, ys, &mut alone) };
                for (r, row) in rows.iter().enumerate() {
                    let want = B::reference(row.iter().copied(), ys).to_bits();
                    assert_eq!(out[r].to_bits(), want, "row {r}");
                    assert_eq!(alone[0][r].to_bits(), want, "row {r}, alone");
                }
            }
        }
    }
}
