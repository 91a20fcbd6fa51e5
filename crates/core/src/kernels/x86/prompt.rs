//! The x86 prompt kernel (several activation rows) of the formats that have one
//! (Q4_1, Q8_0): one weight row per lane, eight rows in 256 bits (AVX2) or sixteen in
//! 512 (AVX-512 VNNI, where the CPU has it). Each block of the rows is unpacked once
//! (a format's [`Prompt`] step), as eight vectors whose lane `r` holds four values of
//! row `r`; against each activation row, four of its values are broadcast to all
//! lanes and multiplied in, so every lane sums its own row's 32 products with no
//! horizontal gathering (which the one-row drivers pay for per block). Signed values
//! (Q8_0's) are multiplied unsigned, 128 above, where `vpdpbusd` sums them (each
//! row's sum then starts at `-128 * Σy`), and as `|x|` times `y` with `x`'s sign by
//! `vpmaddubsw`. The float steps are the reference's, one lane per row: `acc += (d_x
//! * d_y) * sum`, `summs += m_x * s_y`, `acc + summs`.

use std::arch::x86_64::*;

use super::avx2;
use crate::kernels::formats::{Block32, BlockQ8_1};
use crate::kernels::rows::put;

/// Activation rows that share each load of the unpacked weights.
const ROWS_PER_PASS: usize = 4;

/// A 32-value format's step on the prompt kernel.
pub trait Prompt: Block32 {
    /// Whether the values are signed (else unsigned, below 32).
    const SIGNED: bool = false;

    /// Block `b` of eight rows, from two quads' (rows 0-3 of `a`, then of `b`).
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn eight(a: &Self::Quad, b: &Self::Quad) -> Unpacked<__m256i, __m256>;

    /// Block `b` of sixteen rows, from four quads' (`quads[0]`, `quads[stride]`, ...):
    /// by default two [`Prompt::eight`]s side by side.
    ///
    /// # Safety
    /// The CPU must have AVX2, F16C and AVX-512 F, BW and VNNI.
    #[inline(always)]
    unsafe fn sixteen(quads: &[Self::Quad], stride: usize) -> Unpacked<__m512i, __m512> {
        let lo = Self::eight(&quads[0], &quads[stride]);
        let hi = Self::eight(&quads[2 * stride], &quads[3 * stride]);
        let mut w = [_mm512_setzero_si512(); 8];
        for (w, (&lo, &hi)) in w.iter_mut().zip(lo.w.iter().zip(&hi.w)) {
            *w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        }
        let floats = |a: __m256, b: __m256| {
            let a = _mm512_castsi256_si512(_mm256_castps_si256(a));
            _mm512_castsi512_ps(_mm512_inserti64x4(a, _mm256_castps_si256(b), 1))
        };
        Unpacked {
            w,
            d: floats(lo.d, hi.d),
            m: floats(lo.m, hi.m),
        }
    }
}

/// A block of a vector's rows unpacked: `w[k]` holds values `4k..4k + 4` of row `r`
/// as bytes in lane `r` (as they are: the kernel flips signed ones for `vpdpbusd`);
/// their scales and minimums (zero for a format without) as f32.
pub struct Unpacked<S, F> {
    pub w: [S; 8],
    pub d: F,
    pub m: F,
}

/// Four vectors of four rows' 32-bit values each (per 128-bit half: the half's four
/// rows' values `4j..4j + 4` in vector `j`) transposed: dword `j` of every row, the
/// rows in lane order.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
pub unsafe fn dwords(v: [__m256i; 4]) -> [__m256i; 4] {
    let (t0, t1) = (
        _mm256_unpacklo_epi32(v[0], v[1]),
        _mm256_unpacklo_epi32(v[2], v[3]),
    );
    let (t2, t3) = (
        _mm256_unpackhi_epi32(v[0], v[1]),
        _mm256_unpackhi_epi32(v[2], v[3]),
    );
    [
        _mm256_unpacklo_epi64(t0, t1),
        _mm256_unpackhi_epi64(t0, t1),
        _mm256_unpacklo_epi64(t2, t3),
        _mm256_unpackhi_epi64(t2, t3),
    ]
}

/// Two quads' four f16 values each as f32 (`a`'s, then `b`'s).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[inline(always)]
pub unsafe fn f16x8(a: &[u16; 4], b: &[u16; 4]) -> __m256 {
    let h = |s: &[u16; 4]| _mm_loadl_epi64(s.as_ptr() as *const __m128i);
    _mm256_cvtph_ps(_mm_unpacklo_epi64(h(a), h(b)))
}

/// The rows of `quads` (fours of rows one after another, as
/// `WeightBlock::dot_rows` takes them) times each activation row of `ys` into `out`,
/// `(n, rows)` row-major: sixteen rows at a time where the CPU has AVX-512 VNNI, then
/// eight at a time. Returns how many fours of rows it did; the caller does the last
/// four (if any).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
pub unsafe fn dot_rows<B: Prompt>(
    quads: &[B::Quad],
    ys: &[BlockQ8_1],
    out: &mut [f32],
    rows: usize,
) -> usize {
    let fours = rows.div_ceil(4);
    let per_row = quads.len() / fours;
    let mut g = 0;
    if avx2::avx512() {
        for sixteen in quads[..fours / 4 * 4 * per_row].chunks_exact(4 * per_row) {
            put(out, rows, 4 * g, &dot16::<B>(sixteen, ys));
            g += 4;
        }
    }
    for eight in quads[g * per_row..(fours / 2 * 2) * per_row].chunks_exact(2 * per_row) {
        let dots = match avx2::vnni() {
            true => dot8_vnni::<B>(eight, ys),
            false => dot8_avx2::<B>(eight, ys),
        };
        put(out, rows, 4 * g, &dots);
        g += 2;
    }
    g
}

/// Eight rows (two fours of `quads`) times each activation row of `ys`, summing with
/// `vpmaddubsw` (unsigned values in i16 over a block: at most 16 products of 31 and
/// 128 per lane, so no lane overflows; signed ones in i32 after each) and
/// `vpmaddwd`.
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot8_avx2<B: Prompt>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> Vec<[f32; 8]> {
    dot_on::<B, Ymm<false>, 8>(quads, ys)
}

/// Eight rows times each activation row, summing with `vpdpbusd`.
#[target_feature(enable = "avx2,f16c,avxvnni")]
unsafe fn dot8_vnni<B: Prompt>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> Vec<[f32; 8]> {
    dot_on::<B, Ymm<true>, 8>(quads, ys)
}

/// Sixteen rows (four fours of `quads`) times each activation row, summing with
/// `vpdpbusd` on 512 bits.
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni")]
unsafe fn dot16<B: Prompt>(quads: &[B::Quad], ys: &[BlockQ8_1]) -> Vec<[f32; 16]> {
    dot_on::<B, Zmm, 16>(quads, ys)
}

/// `W` rows (`W / 4` fours of `quads`) times each activation row of `ys`, in lanes
/// `L`; inlined into a caller with the target features `L` asks for.
#[inline(always)]
unsafe fn dot_on<B: Prompt, L: Lanes, const W: usize>(
    quads: &[B::Quad],
    ys: &[BlockQ8_1],
) -> Vec<[f32; W]> {
    let per_row = quads.len() / (W / 4);
    let share = std::mem::size_of_val(quads) / per_row;
    // A plain loop: a closure run by `collect` would not inline the intrinsics.
    let mut unpacked = Vec::with_capacity(per_row);
    for b in 0..per_row {
        // The next `W` rows, a block's share of their bytes per block: hints, and an
        // address past the matrix is never read and cannot fault.
        let next = (quads.as_ptr_range().end as *const i8).wrapping_add(b * share);
        for line in (0..share).step_by(64) {
            _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(line));
        }
        unpacked.push(L::unpacked::<B>(&quads[b..], per_row));
    }
    let n = ys.len() / per_row;
    let mut out = vec![[0f32; W]; n];
    let mut passes = ys.chunks_exact(ROWS_PER_PASS * per_row);
    let mut outs = out.chunks_exact_mut(ROWS_PER_PASS);
    for (ys, out) in (&mut passes).zip(&mut outs) {
        let ys = std::array::from_fn(|i| &ys[i * per_row..][..per_row]);
        pass::<B, L, W, ROWS_PER_PASS>(&unpacked, ys, out);
    }
    for (ys, out) in passes
        .remainder()
        .chunks_exact(per_row)
        .zip(outs.into_remainder().chunks_exact_mut(1))
    {
        pass::<B, L, W, 1>(&unpacked, [ys], out);
    }
    out
}

/// The rows of `unpacked` times `R` activation rows, into `out`. A block's integer
/// sum is made in two halves (the even and the odd fours of values) and then added,
/// exactly: twice as many independent chains of sums run side by side (interleaved
/// medians, native prefill 1 thread: ~276 to ~343 tok/s).
#[inline(always)]
unsafe fn pass<B: Prompt, L: Lanes, const W: usize, const R: usize>(
    unpacked: &[Unpacked<L::Sums, L::Floats>],
    ys: [&[BlockQ8_1]; R],
    out: &mut [[f32; W]],
) {
    let mut acc = [L::zeros(); R];
    let mut summs = [L::zeros(); R];
    for (b, u) in unpacked.iter().enumerate() {
        let mut even: [L::Sums; R] = std::array::from_fn(|i| L::start::<B>(ys[i][b].sum));
        let mut odd = [L::zero_sums(); R];
        for k in (0..8).step_by(2) {
            for ((even, odd), ys) in even.iter_mut().zip(&mut odd).zip(ys) {
                let y = ys[b].qs.as_ptr().add(4 * k) as *const i32;
                *even = L::sum::<B>(*even, u.w[k], y.read_unaligned());
                *odd = L::sum::<B>(*odd, u.w[k + 1], y.add(1).read_unaligned());
            }
        }
        let sums: [L::Sums; R] = std::array::from_fn(|i| L::add_sums::<B>(even[i], odd[i]));
        for (i, ys) in ys.iter().enumerate() {
            let d = L::mul(u.d, L::splat(ys[b].d));
            acc[i] = L::add(acc[i], L::mul(d, L::total::<B>(sums[i])));
            if B::MINIMUMS {
                summs[i] = L::add(summs[i], L::mul(u.m, L::splat(ys[b].s)));
            }
        }
    }
    for (i, out) in out.iter_mut().enumerate() {
        L::store(L::add(acc[i], summs[i]), out);
    }
}

/// A vector of one lane per row: the operations [`pass`] does on it, for a format's
/// values `B`.
trait Lanes: Sized {
    /// Per-lane integer sums.
    type Sums: Copy;
    /// Per-lane f32 values.
    type Floats: Copy;
    /// A block of the rows, from its quads `quads[0]`, `quads[stride]`, ...
    unsafe fn unpacked<B: Prompt>(
        quads: &[B::Quad],
        stride: usize,
    ) -> Unpacked<Self::Sums, Self::Floats>;
    /// Where a block's sums start against an activation block whose values sum to
    /// `sum`.
    unsafe fn start<B: Prompt>(sum: i32) -> Self::Sums;
    unsafe fn zero_sums() -> Self::Sums;
    /// Two partial sums of a block added.
    unsafe fn add_sums<B: Prompt>(a: Self::Sums, b: Self::Sums) -> Self::Sums;
    /// `sums` plus the products of `w`'s bytes and `y`'s four, lane by lane.
    unsafe fn sum<B: Prompt>(sums: Self::Sums, w: Self::Sums, y: i32) -> Self::Sums;
    /// A block's exact sums as f32.
    unsafe fn total<B: Prompt>(sums: Self::Sums) -> Self::Floats;
    unsafe fn zeros() -> Self::Floats;
    unsafe fn splat(v: f32) -> Self::Floats;
    unsafe fn mul(a: Self::Floats, b: Self::Floats) -> Self::Floats;
    unsafe fn add(a: Self::Floats, b: Self::Floats) -> Self::Floats;
    unsafe fn store(v: Self::Floats, out: &mut [f32]);
}

/// Eight rows in 256 bits, summing with `vpdpbusd` when `VNNI`; with
/// `vpmaddubsw` otherwise, in i16 over a block for unsigned values, in i32 after each
/// four for signed ones (pairs of `|x| * y` fill an i16).
struct Ymm<const VNNI: bool>;

impl<const VNNI: bool> Ymm<VNNI> {
    /// Whether the sums of `B`'s values are kept in i16 lanes until a block's end.
    const fn short<B: Prompt>() -> bool {
        !VNNI && !B::SIGNED
    }
}

impl<const VNNI: bool> Lanes for Ymm<VNNI> {
    type Sums = __m256i;
    type Floats = __m256;
    #[inline(always)]
    unsafe fn unpacked<B: Prompt>(quads: &[B::Quad], stride: usize) -> Unpacked<__m256i, __m256> {
        let mut u = B::eight(&quads[0], &quads[stride]);
        if VNNI && B::SIGNED {
            for w in &mut u.w {
                *w = _mm256_xor_si256(*w, _mm256_set1_epi8(-128));
            }
        }
        u
    }
    #[inline(always)]
    unsafe fn start<B: Prompt>(sum: i32) -> __m256i {
        match VNNI && B::SIGNED {
            true => _mm256_set1_epi32(-128 * sum),
            false => _mm256_setzero_si256(),
        }
    }
    #[inline(always)]
    unsafe fn zero_sums() -> __m256i {
        _mm256_setzero_si256()
    }
    #[inline(always)]
    unsafe fn add_sums<B: Prompt>(a: __m256i, b: __m256i) -> __m256i {
        match Self::short::<B>() {
            true => _mm256_add_epi16(a, b),
            false => _mm256_add_epi32(a, b),
        }
    }
    #[inline(always)]
    unsafe fn sum<B: Prompt>(sums: __m256i, w: __m256i, y: i32) -> __m256i {
        let y = _mm256_set1_epi32(y);
        if VNNI {
            return _mm256_dpbusd_avx_epi32(sums, w, y);
        }
        match B::SIGNED {
            true => {
                let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(y, w));
                _mm256_add_epi32(sums, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
            }
            false => _mm256_add_epi16(sums, _mm256_maddubs_epi16(w, y)),
        }
    }
    #[inline(always)]
    unsafe fn total<B: Prompt>(sums: __m256i) -> __m256 {
        _mm256_cvtepi32_ps(match Self::short::<B>() {
            true => _mm256_madd_epi16(sums, _mm256_set1_epi16(1)),
            false => sums,
        })
    }
    #[inline(always)]
    unsafe fn zeros() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn store(v: __m256, out: &mut [f32]) {
        _mm256_storeu_ps(out[..8].as_mut_ptr(), v)
    }
}

/// Sixteen rows in 512 bits, summing with `vpdpbusd`.
struct Zmm;

impl Lanes for Zmm {
    type Sums = __m512i;
    type Floats = __m512;
    #[inline(always)]
    unsafe fn unpacked<B: Prompt>(quads: &[B::Quad], stride: usize) -> Unpacked<__m512i, __m512> {
        let mut u = B::sixteen(quads, stride);
        if B::SIGNED {
            for w in &mut u.w {
                *w = _mm512_xor_si512(*w, _mm512_set1_epi8(-128));
            }
        }
        u
    }
    #[inline(always)]
    unsafe fn start<B: Prompt>(sum: i32) -> __m512i {
        match B::SIGNED {
            true => _mm512_set1_epi32(-128 * sum),
            false => _mm512_setzero_si512(),
        }
    }
    #[inline(always)]
    unsafe fn zero_sums() -> __m512i {
        _mm512_setzero_si512()
    }
    #[inline(always)]
    unsafe fn add_sums<B: Prompt>(a: __m512i, b: __m512i) -> __m512i {
        _mm512_add_epi32(a, b)
    }
    #[inline(always)]
    unsafe fn sum<B: Prompt>(sums: __m512i, w: __m512i, y: i32) -> __m512i {
        _mm512_dpbusd_epi32(sums, w, _mm512_set1_epi32(y))
    }
    #[inline(always)]
    unsafe fn total<B: Prompt>(sums: __m512i) -> __m512 {
        _mm512_cvtepi32_ps(sums)
    }
    #[inline(always)]
    unsafe fn zeros() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m512 {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn store(v: __m512, out: &mut [f32]) {
        _mm512_storeu_ps(out[..16].as_mut_ptr(), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::formats::{quantize_q8_1_reference, BlockQ4_1, BlockQ8_0, QK};

    /// Every driver this CPU has, and the rows the kernel's entry does (sixteen or
    /// eight at a time), equal the reference bit for bit, each format: made-up blocks
    /// and the extremes (all nibbles 15, or all values -127, against all of the
    /// lowest activation and all 127: the largest sums), against one to five
    /// activation rows (a pass of four and a remainder).
    #[test]
    fn many_rows_at_once_equal_the_reference() {
        if avx2::available() {
            check::<BlockQ4_1>(0xFF, -128);
            // The quantiser never writes -128, which `vpmaddubsw`'s sign trick negates.
            check::<BlockQ8_0>(0x81, -127);
        }
    }

    /// [`many_rows_at_once_equal_the_reference`] for `B`, whose largest values are
    /// bytes `extreme`, against activations as low as `lowest`.
    fn check<B: Prompt>(extreme: u8, lowest: i8) {
        let (n, rows) = (5, 20);
        let values = 2 * B::HALVES.len();
        let blocks: Vec<Vec<B>> = (0..rows)
            .map(|r| {
                (0..n)
                    .map(|b| {
                        let bytes: Vec<u8> = (0..B::BYTES)
                            .map(|i| match i {
                                // Small finite f16 scales (and minimums).
                                i if B::HALVES.iter().any(|&h| i == h + 1) => 0x2C,
                                i if i >= values && (r, b) == (5, n - 1) => extreme,
                                _ => ((i + 7 * b + 31 * r) * 131 % 251) as u8,
                            })
                            .collect();
                        B::read(&bytes)
                    })
                    .collect()
            })
            .collect();
        let quads: Vec<B::Quad> = blocks
            .chunks(4)
            .flat_map(|f| B::quads([&f[0], &f[1], &f[2], &f[3]]))
            .collect();
        for t in 1..=5 {
            let x: Vec<f32> = (0..t * n * QK)
                .map(|i| ((i * 17 % 29) as f32 - 14.0) / 7.0)
                .collect();
            let mut ys = vec![BlockQ8_1::default(); t * n];
            quantize_q8_1_reference(&x, &mut ys);
            for (y, v) in [(t * n - 1, lowest), (0, 127)] {
                ys[y].qs = [v; QK];
                ys[y].sum = QK as i32 * v as i32;
            }
            let want = |a: usize, r: usize| {
                B::reference(blocks[r].iter().copied(), &ys[a * n..][..n]).to_bits()
            };
            let mut all = vec![0f32; t * rows];
            // SAFETY: the CPU has AVX2 and F16C.
            let done = unsafe { dot_rows::<B>(&quads, &ys, &mut all, rows) };
            assert!(4 * done >= rows - 4, "{done} fours of {rows} rows");
            // SAFETY: the CPU has AVX2 and F16C; each driver runs only where the CPU
            // has what it needs.
            unsafe {
                let mut eights = vec![dot8_avx2::<B>(&quads[..2 * n], &ys)];
                if avx2::vnni() {
                    eights.push(dot8_vnni::<B>(&quads[..2 * n], &ys));
                }
                for (a, dots) in eights.iter().flatten().enumerate() {
                    for (r, dot) in dots.iter().enumerate() {
                        let name = B::NAME;
                        assert_eq!(dot.to_bits(), want(a % t, r), "{name} row {r} of {t}, by 8");
                    }
                }
                if avx2::avx512() {
                    for (a, dots) in dot16::<B>(&quads[..4 * n], &ys).iter().enumerate() {
                        for (r, dot) in dots.iter().enumerate() {
                            let name = B::NAME;
                            assert_eq!(dot.to_bits(), want(a, r), "{name} row {r} of {t}, by 16");
                        }
                    }
                }
            }
            for (a, all) in all.chunks(rows).enumerate() {
                for (r, dot) in all.iter().enumerate().filter(|(r, _)| *r < 4 * done) {
                    assert_eq!(dot.to_bits(), want(a, r), "{} row {r} of {t}", B::NAME);
                }
            }
        }
    }
}
