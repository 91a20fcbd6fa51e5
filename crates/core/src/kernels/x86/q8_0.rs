//! Q8_0 on x86: its steps for the AVX2 driver, the AVX-512 VNNI decode kernel and
//! the prompt kernel.

use std::arch::x86_64::*;

use super::prompt::{self, Prompt, Unpacked};
use super::{avx2, avx512_decode};
use crate::kernels::formats::{BlockQ8_0, BlockQ8_1, QuadQ8_0};

impl avx2::Step for BlockQ8_0 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ8_0) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), _mm_setzero_ps())
    }

    /// The values as they are.
    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ8_0, r: usize) -> __m256i {
        _mm256_loadu_si256(quad.qs[r].as_ptr() as *const __m256i)
    }

    /// |x| times y with x's sign (values are within ±127, so pairs are at most
    /// 2*127*127: no saturation).
    #[inline(always)]
    unsafe fn operands(w: __m256i, y8: __m256i) -> (__m256i, __m256i) {
        (_mm256_sign_epi8(w, w), _mm256_sign_epi8(y8, w))
    }

    unsafe fn prompt_rows(
        quads: &[QuadQ8_0],
        ys: &[BlockQ8_1],
        out: &mut [f32],
        rows: usize,
    ) -> usize {
        prompt::dot_rows::<Self>(quads, ys, out, rows)
    }
}

impl Prompt for BlockQ8_0 {
    const SIGNED: bool = true;

    /// Each row's two 16-byte halves, rows 0-3 in the low half of a vector and 4-7 in
    /// the high one, transposed as dwords.
    #[inline(always)]
    unsafe fn eight(a: &QuadQ8_0, b: &QuadQ8_0) -> Unpacked<__m256i, __m256> {
        let (mut first, mut second) = ([_mm256_setzero_si256(); 4], [_mm256_setzero_si256(); 4]);
        for r in 0..4 {
            let half = |q: &QuadQ8_0, h: usize| {
                _mm_loadu_si128(q.qs[r].as_ptr().add(16 * h) as *const __m128i)
            };
            first[r] = _mm256_set_m128i(half(b, 0), half(a, 0));
            second[r] = _mm256_set_m128i(half(b, 1), half(a, 1));
        }
        let (first, second) = (prompt::dwords(first), prompt::dwords(second));
        Unpacked {
            w: [
                first[0], first[1], first[2], first[3], second[0], second[1], second[2], second[3],
            ],
            d: prompt::f16x8(&a.d, &b.d),
            m: _mm256_setzero_ps(),
        }
    }

    /// Two rows per load, then a 16 x 8 transpose of dwords in three rounds of
    /// `vpermt2d` ([`PICKS`]).
    #[inline(always)]
    unsafe fn sixteen(quads: &[QuadQ8_0], stride: usize) -> Unpacked<__m512i, __m512> {
        // Rows 2j and 2j + 1 in `v[j]`, eight dwords each.
        let mut v = [_mm512_setzero_si512(); 8];
        for (j, v) in v.iter_mut().enumerate() {
            let quad = &quads[j / 2 * stride];
            *v = _mm512_loadu_si512(quad.qs[2 * (j % 2)].as_ptr() as *const _);
        }
        let pick = |a, round: usize, bit: usize, b| {
            let picks = _mm512_loadu_si512(PICKS[round][bit].as_ptr() as *const _);
            _mm512_permutex2var_epi32(a, picks, b)
        };
        let mut w = [_mm512_setzero_si512(); 8];
        for k2 in 0..2 {
            let mut s1 = [_mm512_setzero_si512(); 4];
            for (j, s1) in s1.iter_mut().enumerate() {
                *s1 = pick(v[j], 0, k2, v[j + 4]);
            }
            for k1 in 0..2 {
                let s2 = [pick(s1[0], 1, k1, s1[2]), pick(s1[1], 1, k1, s1[3])];
                for k0 in 0..2 {
                    w[4 * k2 + 2 * k1 + k0] = pick(s2[0], 2, k0, s2[1]);
                }
            }
        }
        let d = |q: usize| (quads[q * stride].d.as_ptr() as *const i64).read_unaligned();
        Unpacked {
            w,
            d: _mm512_cvtph_ps(_mm256_setr_epi64x(d(0), d(1), d(2), d(3))),
            m: _mm512_setzero_ps(),
        }
    }
}

/// `vpermt2d`'s picks for [`Prompt::sixteen`]'s rounds, with bit `bit` of the dwords'
/// place: the value of row `ρ` (bits ρ3..ρ0), dword `k` (k2 k1 k0), starts in vector
/// ρ3ρ2ρ1 at place ρ0k2k1k0. Round 0 takes vectors `j` and `j + 4` (ρ3 0 and 1) and
/// keeps the dwords of k2 = `bit`, at place ρ0ρ3k1k0; round 1 takes pairs of those
/// differing in ρ2, keeps k1 = `bit`, at ρ0ρ3ρ2k0; round 2 pairs differing in ρ1,
/// k0 = `bit`, at ρ3ρ2ρ1ρ0: vector `k` then holds dword `k` of every row in row order.
const PICKS: [[[i32; 16]; 2]; 3] = {
    let mut picks = [[[0; 16]; 2]; 3];
    let mut i = 0;
    while i < 3 * 2 * 16 {
        let (round, bit, place) = (i / 32, (i / 16) % 2, i % 16);
        let [a, b, c, d] = [place >> 3 & 1, place >> 2 & 1, place >> 1 & 1, place & 1];
        // Bit 4 of a pick: from the second vector.
        picks[round][bit][place] = match round {
            0 => b << 4 | a << 3 | bit << 2 | c << 1 | d,
            1 => c << 4 | a << 3 | b << 2 | bit << 1 | d,
            _ => c << 4 | d << 3 | a << 2 | b << 1 | bit,
        } as i32;
        i += 1;
    }
    picks
};
impl avx512_decode::Step16 for BlockQ8_0 {
    /// The activation block in both 256-bit halves, and -128 times each four of its
    /// values' sum in the matching lanes: where each row's sums start.
    type Y = (__m512i, __m512i);

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Self::Y {
        let y8 = _mm512_broadcast_i64x4(_mm256_loadu_si256(y.qs.as_ptr() as *const __m256i));
        let zero = _mm512_setzero_si512();
        let excess = _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(-128), y8);
        (y8, _mm512_sub_epi32(zero, excess))
    }

    /// Two rows per load, their signed values as unsigned ones 128 higher (`x ^
    /// 0x80`), so each sum starts at minus the excess: exact. Each row spans two
    /// 128-bit lanes, added together.
    #[inline(always)]
    unsafe fn partials(quad: &QuadQ8_0, (y8, start): Self::Y) -> __m512i {
        let flip = _mm512_set1_epi8(-128);
        let two = |i: usize| {
            let v = _mm512_loadu_si512(quad.qs.as_ptr().add(2 * i) as *const _);
            _mm512_dpbusd_epi32(start, _mm512_xor_si512(v, flip), y8)
        };
        let (a, b) = (two(0), two(1));
        let firsts = _mm512_shuffle_i32x4::<0b10_00_10_00>(a, b);
        let seconds = _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b);
        _mm512_add_epi32(firsts, seconds)
    }

    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ8_0; 4]) -> (__m512, __m512) {
        let d = avx512_decode::f16_lanes(quads.map(|q| &q.d));
        (d, _mm512_setzero_ps())
    }
}
