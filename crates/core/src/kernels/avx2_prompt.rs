//! The x86 Q4_1 kernel for a prompt (several activation rows): eight weight rows in
//! the eight lanes of a vector. Each block of eight rows is unpacked once, as eight
//! vectors whose lane `r` holds four values of row `r`; against each activation
//! row, four of its values are broadcast to all lanes and multiplied in, so every
//! lane sums its own row's 32 products with no horizontal gathering (which the
//! one-row driver in `avx2` pays for per block). The float steps are the reference's,
//! one lane per row: `acc += (d_x * d_y) * sum`, `summs += m_x * s_y`, `acc + summs`.

use std::arch::x86_64::*;

use super::avx2;
use super::blocks::{BlockQ8_1, QuadQ4_1};

/// Activation rows that share each load of the unpacked weights.
const ROWS_PER_PASS: usize = 4;

/// Block `b` of eight rows unpacked: `w[k]` holds values `4k..4k + 4` of row `r` as
/// bytes in lane `r`; their scales and minimums as f32.
struct Eight {
    w: [__m256i; 8],
    d: __m256,
    m: __m256,
}

/// Two quads' block (rows 0-3, then 4-7) as an [`Eight`].
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[inline(always)]
unsafe fn eight(a: &QuadQ4_1, b: &QuadQ4_1) -> Eight {
    let nibbles = |q: &QuadQ4_1, r: usize| _mm_loadu_si128(q.qs[r].as_ptr() as *const __m128i);
    // Row r of `a` in the low half, of `b` in the high half; dword j holds the
    // nibbles of values 4j..4j + 4 (low) and 16 + 4j.. (high).
    let v: [__m256i; 4] = std::array::from_fn(|r| _mm256_set_m128i(nibbles(b, r), nibbles(a, r)));
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
    let scales = |a: &[u16; 4], b: &[u16; 4]| {
        let h = |s: &[u16; 4]| _mm_loadl_epi64(s.as_ptr() as *const __m128i);
        _mm256_cvtph_ps(_mm_unpacklo_epi64(h(a), h(b)))
    };
    Eight {
        w: std::array::from_fn(|k| match k < 4 {
            true => _mm256_and_si256(dwords[k], mask),
            false => _mm256_and_si256(_mm256_srli_epi16(dwords[k - 4], 4), mask),
        }),
        d: scales(&a.d, &b.d),
        m: scales(&a.m, &b.m),
    }
}

/// Eight rows (`quads[0]` holds rows 0-3, `quads[1]` rows 4-7, one quad per block)
/// times each activation row of `ys` (`out.len()` rows of `quads[0].len()` blocks).
///
/// # Safety
/// The CPU must have AVX2 and F16C.
pub unsafe fn dot8(quads: [&[QuadQ4_1]; 2], ys: &[BlockQ8_1], out: &mut [[f32; 8]]) {
    match avx2::vnni() {
        true => dot8_vnni(quads, ys, out),
        false => dot8_avx2(quads, ys, out),
    }
}

/// [`dot8`] summing with `vpmaddubsw` (in i16 over a block: at most 16 products of
/// 15 and 128 per lane, so no lane overflows) and one `vpmaddwd`.
#[target_feature(enable = "avx2,f16c")]
unsafe fn dot8_avx2(quads: [&[QuadQ4_1]; 2], ys: &[BlockQ8_1], out: &mut [[f32; 8]]) {
    dot8_on::<false>(quads, ys, out)
}

/// [`dot8`] summing with `vpdpbusd`.
#[target_feature(enable = "avx2,f16c,avxvnni")]
unsafe fn dot8_vnni(quads: [&[QuadQ4_1]; 2], ys: &[BlockQ8_1], out: &mut [[f32; 8]]) {
    dot8_on::<true>(quads, ys, out)
}

/// [`dot8`], inlined into a caller with the target features that `VNNI` asks for.
#[inline(always)]
unsafe fn dot8_on<const VNNI: bool>(
    quads: [&[QuadQ4_1]; 2],
    ys: &[BlockQ8_1],
    out: &mut [[f32; 8]],
) {
    let eights: Vec<Eight> = quads[0]
        .iter()
        .zip(quads[1])
        .map(|(a, b)| eight(a, b))
        .collect();
    let per_row = eights.len();
    let mut pairs = ys.chunks_exact(ROWS_PER_PASS * per_row);
    let mut outs = out.chunks_exact_mut(ROWS_PER_PASS);
    for (ys, out) in (&mut pairs).zip(&mut outs) {
        let ys = std::array::from_fn(|i| &ys[i * per_row..][..per_row]);
        out.copy_from_slice(&pass::<VNNI, ROWS_PER_PASS>(&eights, ys));
    }
    for (ys, out) in pairs
        .remainder()
        .chunks_exact(per_row)
        .zip(outs.into_remainder())
    {
        *out = pass::<VNNI, 1>(&eights, [ys])[0];
    }
}

/// The eight rows of `eights` times `R` activation rows.
#[inline(always)]
unsafe fn pass<const VNNI: bool, const R: usize>(
    eights: &[Eight],
    ys: [&[BlockQ8_1]; R],
) -> [[f32; 8]; R] {
    let mut acc = [_mm256_setzero_ps(); R];
    let mut summs = [_mm256_setzero_ps(); R];
    for (b, e) in eights.iter().enumerate() {
        let mut sums = [_mm256_setzero_si256(); R];
        for (k, &w) in e.w.iter().enumerate() {
            for (sum, ys) in sums.iter_mut().zip(ys) {
                let y = ys[b].qs.as_ptr().add(4 * k) as *const i32;
                let y = _mm256_set1_epi32(y.read_unaligned());
                *sum = match VNNI {
                    true => _mm256_dpbusd_avx_epi32(*sum, w, y),
                    false => _mm256_add_epi16(*sum, _mm256_maddubs_epi16(w, y)),
                };
            }
        }
        for (i, ys) in ys.iter().enumerate() {
            let sum = match VNNI {
                true => sums[i],
                false => _mm256_madd_epi16(sums[i], _mm256_set1_epi16(1)),
            };
            let d = _mm256_mul_ps(e.d, _mm256_set1_ps(ys[b].d));
            acc[i] = _mm256_add_ps(acc[i], _mm256_mul_ps(d, _mm256_cvtepi32_ps(sum)));
            summs[i] = _mm256_add_ps(summs[i], _mm256_mul_ps(e.m, _mm256_set1_ps(ys[b].s)));
        }
    }
    std::array::from_fn(|i| {
        let mut out = [0f32; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), _mm256_add_ps(acc[i], summs[i]));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::blocks::{quantize_q8_1, BlockQ4_1, WeightBlock, Q4_1_BYTES, QK};

    /// Both ways of summing, whichever this CPU has, equal the reference bit for bit:
    /// made-up blocks and the extremes (all nibbles 15 against all -128 and 127, the
    /// largest sums), against an even and an odd number of activation rows.
    #[test]
    fn eight_rows_at_once_equal_the_reference() {
        if !avx2::available() {
            return;
        }
        let n = 5;
        let mut rows: Vec<Vec<BlockQ4_1>> = (0..8)
            .map(|r| {
                (0..n)
                    .map(|b| {
                        let bytes: Vec<u8> = (0..Q4_1_BYTES)
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
        rows[5][n - 1].qs = [0xFF; 16];
        let quads =
            |rows: &[Vec<BlockQ4_1>]| BlockQ4_1::quads([&rows[0], &rows[1], &rows[2], &rows[3]]);
        let (a, b) = (quads(&rows[..4]), quads(&rows[4..]));
        for t in [1, 2, 3] {
            let x: Vec<f32> = (0..t * n * QK)
                .map(|i| ((i * 17 % 29) as f32 - 14.0) / 7.0)
                .collect();
            let mut ys = vec![BlockQ8_1::default(); t * n];
            quantize_q8_1(&x, &mut ys);
            ys[t * n - 1].qs = [-128; QK];
            ys[0].qs = [127; QK];
            type Driver = unsafe fn([&[QuadQ4_1]; 2], &[BlockQ8_1], &mut [[f32; 8]]);
            let drivers: [(bool, Driver); 2] = [(true, dot8_avx2), (avx2::vnni(), dot8_vnni)];
            for (_, driver) in drivers.iter().filter(|(on_this_cpu, _)| *on_this_cpu) {
                let mut out = vec![[0f32; 8]; t];
                // SAFETY: the CPU has AVX2 and F16C, and AVX-VNNI for the second driver.
                unsafe { driver([&a, &b], &ys, &mut out) };
                for (ys, out) in ys.chunks(n).zip(&out) {
                    for (r, row) in rows.iter().enumerate() {
                        let want = BlockQ4_1::reference(row.iter().copied(), ys);
                        assert_eq!(out[r].to_bits(), want.to_bits(), "row {r} of {t}");
                    }
                }
            }
        }
    }
}
