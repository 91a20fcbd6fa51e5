//! The x86 Q4_1 kernel for a prompt (several activation rows): one weight row per
//! lane, eight rows in 256 bits (AVX2) or sixteen in 512 (AVX-512 VNNI, where the
//! CPU has it). Each block of the rows is unpacked once, as eight vectors whose lane `r` holds four
//! values of row `r`; against each activation row, four of its values are broadcast
//! to all lanes and multiplied in, so every lane sums its own row's 32 products with
//! no horizontal gathering (which the one-row driver in `avx2` pays for per block).
//! The float steps are the reference's, one lane per row: `acc += (d_x * d_y) * sum`,
//! `summs += m_x * s_y`, `acc + summs`.

use std::arch::x86_64::*;

use super::avx2;
use crate::kernels::formats::{BlockQ8_1, QuadQ4_1};
use crate::kernels::rows::put;

/// Activation rows that share each load of the unpacked weights.
const ROWS_PER_PASS: usize = 4;

/// Block `b` of a vector's rows unpacked: `w[k]` holds values `4k..4k + 4` of row `r`
/// as bytes in lane `r`; their scales and minimums as f32.
struct Unpacked<L: Lanes> {
    w: [L::Sums; 8],
    d: L::Floats,
    m: L::Floats,
}

/// Two quads' block (rows 0-3, then 4-7) unpacked.
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[inline(always)]
unsafe fn eight<const VNNI: bool>(a: &QuadQ4_1, b: &QuadQ4_1) -> Unpacked<Ymm<VNNI>> {
    let mut v = [_mm256_setzero_si256(); 4];
    for (r, v) in v.iter_mut().enumerate() {
        let nibbles = |q: &QuadQ4_1| q.qs[r].as_ptr() as *const __m128i;
        *v = _mm256_set_m128i(_mm_loadu_si128(nibbles(b)), _mm_loadu_si128(nibbles(a)));
    }
    let (t0, t1) = (
        _mm256_unpacklo_epi32(v[0], v[1]),
        _mm256_unpacklo_epi32(v[2], v[3]),
    );
    let (t2, t3) = (
        _mm256_unpackhi_epi32(v[0], v[1]),
        _mm256_unpackhi_epi32(v[2], v[3]),
    );
    // Dword j of each row, the rows in lane order.
    let dwords = [
        _mm256_unpacklo_epi64(t0, t1),
        _mm256_unpackhi_epi64(t0, t1),
        _mm256_unpacklo_epi64(t2, t3),
        _mm256_unpackhi_epi64(t2, t3),
    ];
    let mask = _mm256_set1_epi8(0x0F);
    let mut w = [_mm256_setzero_si256(); 8];
    for j in 0..4 {
        w[j] = _mm256_and_si256(dwords[j], mask);
        w[j + 4] = _mm256_and_si256(_mm256_srli_epi16(dwords[j], 4), mask);
    }
    let h = |s: &[u16; 4]| s.as_ptr() as *const __m128i;
    let (d, m) = (
        _mm_unpacklo_epi64(_mm_loadl_epi64(h(&a.d)), _mm_loadl_epi64(h(&b.d))),
        _mm_unpacklo_epi64(_mm_loadl_epi64(h(&a.m)), _mm_loadl_epi64(h(&b.m))),
    );
    Unpacked {
        w,
        d: _mm256_cvtph_ps(d),
        m: _mm256_cvtph_ps(m),
    }
}

/// The rows of `quads` (fours of rows one after another, as
/// `WeightBlock::dot_rows` takes them) times each activation row of `ys` into `out`,
/// `(n, rows)` row-major: sixteen rows at a time where the CPU has AVX-512 VNNI, then
/// eight at a time. Returns how many fours of rows it did; the caller does the last
/// four (if any).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
pub unsafe fn dot_rows(
    quads: &[QuadQ4_1],
    ys: &[BlockQ8_1],
    out: &mut [f32],
    rows: usize,
) -> usize {
    let fours = rows.div_ceil(4);
    let per_row = quads.len() / fours;
    let mut g = 0;
    if avx2::avx512() {
        for sixteen in quads[..fours / 4 * 4 * per_row].chunks_exact(4 * per_row) {
            put(out, rows, 4 * g, &dot16(sixteen, ys));
            g += 4;
        }
    }
    for eight in quads[g * per_row..(fours / 2 * 2) * per_row].chunks_exact(2 * per_row) {
        let dots = match avx2::vnni() {
            true => dot8_vnni(eight, ys),
            false => dot8_avx2(eight, ys),
        };
        put(out, rows, 4 * g, &dots);
        g += 2;
    }
    g
}

/// Eight rows (two fours of `quads`) times each activation row of `ys`, summing with
/// `vpmaddubsw` (in i16 over a block: at most 16 products of 15 and 128 per lane, so
/// no lane overflows) and one `vpmaddwd`.
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot8_avx2(quads: &[QuadQ4_1], ys: &[BlockQ8_1]) -> Vec<[f32; 8]> {
    dot_on::<Ymm<false>, 8>(quads, ys)
}

/// Eight rows times each activation row, summing with `vpdpbusd`.
#[target_feature(enable = "avx2,f16c,avxvnni")]
unsafe fn dot8_vnni(quads: &[QuadQ4_1], ys: &[BlockQ8_1]) -> Vec<[f32; 8]> {
    dot_on::<Ymm<true>, 8>(quads, ys)
}

/// Sixteen rows (four fours of `quads`) times each activation row, summing with
/// `vpdpbusd` on 512 bits.
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni")]
unsafe fn dot16(quads: &[QuadQ4_1], ys: &[BlockQ8_1]) -> Vec<[f32; 16]> {
    dot_on::<Zmm, 16>(quads, ys)
}

/// `W` rows (`W / 4` fours of `quads`) times each activation row of `ys`, in lanes
/// `L`; inlined into a caller with the target features `L` asks for.
#[inline(always)]
unsafe fn dot_on<L: Lanes, const W: usize>(quads: &[QuadQ4_1], ys: &[BlockQ8_1]) -> Vec<[f32; W]> {
    let per_row = quads.len() / (W / 4);
    // A plain loop: a closure run by `collect` would not inline the intrinsics.
    let mut unpacked = Vec::with_capacity(per_row);
    for b in 0..per_row {
        unpacked.push(L::unpacked(&quads[b..], per_row));
    }
    let n = ys.len() / per_row;
    let mut out = vec![[0f32; W]; n];
    let mut passes = ys.chunks_exact(ROWS_PER_PASS * per_row);
    let mut outs = out.chunks_exact_mut(ROWS_PER_PASS);
    for (ys, out) in (&mut passes).zip(&mut outs) {
        let ys = std::array::from_fn(|i| &ys[i * per_row..][..per_row]);
        pass::<L, W, ROWS_PER_PASS>(&unpacked, ys, out);
    }
    for (ys, out) in passes
        .remainder()
        .chunks_exact(per_row)
        .zip(outs.into_remainder().chunks_exact_mut(1))
    {
        pass::<L, W, 1>(&unpacked, [ys], out);
    }
    out
}

/// The rows of `unpacked` times `R` activation rows, into `out`. A block's integer
/// sum is made in two halves (the even and the odd fours of values) and then added,
/// exactly: twice as many independent chains of sums run side by side (interleaved
/// medians, native prefill 1 thread: ~276 to ~343 tok/s).
#[inline(always)]
unsafe fn pass<L: Lanes, const W: usize, const R: usize>(
    unpacked: &[Unpacked<L>],
    ys: [&[BlockQ8_1]; R],
    out: &mut [[f32; W]],
) {
    let mut acc = [L::zeros(); R];
    let mut summs = [L::zeros(); R];
    for (b, u) in unpacked.iter().enumerate() {
        let mut even = [L::zero_sums(); R];
        let mut odd = [L::zero_sums(); R];
        for k in (0..8).step_by(2) {
            for ((even, odd), ys) in even.iter_mut().zip(&mut odd).zip(ys) {
                let y = ys[b].qs.as_ptr().add(4 * k) as *const i32;
                *even = L::sum(*even, u.w[k], y.read_unaligned());
                *odd = L::sum(*odd, u.w[k + 1], y.add(1).read_unaligned());
            }
        }
        let sums: [L::Sums; R] = std::array::from_fn(|i| L::add_sums(even[i], odd[i]));
        for (i, ys) in ys.iter().enumerate() {
            let d = L::mul(u.d, L::splat(ys[b].d));
            acc[i] = L::add(acc[i], L::mul(d, L::total(sums[i])));
            summs[i] = L::add(summs[i], L::mul(u.m, L::splat(ys[b].s)));
        }
    }
    for (i, out) in out.iter_mut().enumerate() {
        L::store(L::add(acc[i], summs[i]), out);
    }
}

/// A vector of one lane per row: the operations [`pass`] does on it.
trait Lanes: Sized {
    /// Per-lane integer sums.
    type Sums: Copy;
    /// Per-lane f32 values.
    type Floats: Copy;
    /// A block of the rows, from its quads `quads[0]`, `quads[stride]`, ...
    unsafe fn unpacked(quads: &[QuadQ4_1], stride: usize) -> Unpacked<Self>;
    unsafe fn zero_sums() -> Self::Sums;
    /// Two partial sums of a block added.
    unsafe fn add_sums(a: Self::Sums, b: Self::Sums) -> Self::Sums;
    /// `sums` plus the products of `w`'s bytes and `y`'s four, lane by lane.
    unsafe fn sum(sums: Self::Sums, w: Self::Sums, y: i32) -> Self::Sums;
    /// A block's exact sums as f32.
    unsafe fn total(sums: Self::Sums) -> Self::Floats;
    unsafe fn zeros() -> Self::Floats;
    unsafe fn splat(v: f32) -> Self::Floats;
    unsafe fn mul(a: Self::Floats, b: Self::Floats) -> Self::Floats;
    unsafe fn add(a: Self::Floats, b: Self::Floats) -> Self::Floats;
    unsafe fn store(v: Self::Floats, out: &mut [f32]);
}

/// Eight rows in 256 bits, summing with `vpdpbusd` when `VNNI`.
struct Ymm<const VNNI: bool>;

impl<const VNNI: bool> Lanes for Ymm<VNNI> {
    type Sums = __m256i;
    type Floats = __m256;
    #[inline(always)]
    unsafe fn unpacked(quads: &[QuadQ4_1], stride: usize) -> Unpacked<Self> {
        eight::<VNNI>(&quads[0], &quads[stride])
    }
    #[inline(always)]
    unsafe fn zero_sums() -> __m256i {
        _mm256_setzero_si256()
    }
    #[inline(always)]
    unsafe fn add_sums(a: __m256i, b: __m256i) -> __m256i {
        match VNNI {
            true => _mm256_add_epi32(a, b),
            false => _mm256_add_epi16(a, b),
        }
    }
    #[inline(always)]
    unsafe fn sum(sums: __m256i, w: __m256i, y: i32) -> __m256i {
        let y = _mm256_set1_epi32(y);
        match VNNI {
            true => _mm256_dpbusd_avx_epi32(sums, w, y),
            false => _mm256_add_epi16(sums, _mm256_maddubs_epi16(w, y)),
        }
    }
    #[inline(always)]
    unsafe fn total(sums: __m256i) -> __m256 {
        _mm256_cvtepi32_ps(match VNNI {
            true => sums,
            false => _mm256_madd_epi16(sums, _mm256_set1_epi16(1)),
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
    unsafe fn unpacked(quads: &[QuadQ4_1], stride: usize) -> Unpacked<Self> {
        let lo = eight::<true>(&quads[0], &quads[stride]);
        let hi = eight::<true>(&quads[2 * stride], &quads[3 * stride]);
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
    #[inline(always)]
    unsafe fn zero_sums() -> __m512i {
        _mm512_setzero_si512()
    }
    #[inline(always)]
    unsafe fn add_sums(a: __m512i, b: __m512i) -> __m512i {
        _mm512_add_epi32(a, b)
    }
    #[inline(always)]
    unsafe fn sum(sums: __m512i, w: __m512i, y: i32) -> __m512i {
        _mm512_dpbusd_epi32(sums, w, _mm512_set1_epi32(y))
    }
    #[inline(always)]
    unsafe fn total(sums: __m512i) -> __m512 {
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
    use crate::kernels::formats::{quantize_q8_1_reference, BlockFormat, BlockQ4_1, QK};

    /// Every driver this CPU has, and the rows the kernel's entry does (sixteen or
    /// eight at a time), equal the reference bit for bit: made-up
    /// blocks and the extremes (all nibbles 15 against all -128 and 127, the largest
    /// sums), against one to five activation rows (a pass of four and a remainder).
    #[test]
    fn many_rows_at_once_equal_the_reference() {
        if !avx2::available() {
            return;
        }
        let (n, rows) = (5, 20);
        let mut blocks: Vec<Vec<BlockQ4_1>> = (0..rows)
            .map(|r| {
                (0..n)
                    .map(|b| {
                        let bytes: Vec<u8> = (0..BlockQ4_1::BYTES)
                            .map(|i| match i {
                                1 | 3 => 0x2C, // small finite f16 scales
                                _ => ((i + 7 * b + 31 * r) * 131 % 251) as u8,
                            })
                            .collect();
                        BlockQ4_1::from_bytes(&bytes)
                    })
                    .collect()
            })
            .collect();
        blocks[5][n - 1].qs = [0xFF; 16];
        let quads: Vec<QuadQ4_1> = blocks
            .chunks(4)
            .flat_map(|f| BlockQ4_1::quads([&f[0], &f[1], &f[2], &f[3]]))
            .collect();
        for t in 1..=5 {
            let x: Vec<f32> = (0..t * n * QK)
                .map(|i| ((i * 17 % 29) as f32 - 14.0) / 7.0)
                .collect();
            let mut ys = vec![BlockQ8_1::default(); t * n];
            quantize_q8_1_reference(&x, &mut ys);
            ys[t * n - 1].qs = [-128; QK];
            ys[0].qs = [127; QK];
            let want = |a: usize, r: usize| {
                BlockQ4_1::reference(blocks[r].iter().copied(), &ys[a * n..][..n]).to_bits()
            };
            let mut all = vec![0f32; t * rows];
            // SAFETY: the CPU has AVX2 and F16C.
            let done = unsafe { dot_rows(&quads, &ys, &mut all, rows) };
            assert!(4 * done >= rows - 4, "{done} fours of {rows} rows");
            // SAFETY: the CPU has AVX2 and F16C; each driver runs only where the CPU
            // has what it needs.
            unsafe {
                let mut eights = vec![dot8_avx2(&quads[..2 * n], &ys)];
                if avx2::vnni() {
                    eights.push(dot8_vnni(&quads[..2 * n], &ys));
                }
                for (a, dots) in eights.iter().flatten().enumerate() {
                    for (r, dot) in dots.iter().enumerate() {
                        assert_eq!(dot.to_bits(), want(a % t, r), "row {r} of {t}, by eight");
                    }
                }
                if avx2::avx512() {
                    for (a, dots) in dot16(&quads[..4 * n], &ys).iter().enumerate() {
                        for (r, dot) in dots.iter().enumerate() {
                            assert_eq!(dot.to_bits(), want(a, r), "row {r} of {t}, by 16");
                        }
                    }
                }
            }
            for (a, all) in all.chunks(rows).enumerate() {
                for (r, dot) in all.iter().enumerate().filter(|(r, _)| *r < 4 * done) {
                    assert_eq!(dot.to_bits(), want(a, r), "row {r} of {t}");
                }
            }
        }
    }
}
