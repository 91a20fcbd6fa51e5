//! The dot product of Q4_1 rows and a Q8_1 row, with the float arithmetic of
//! llama.cpp's reference (`ggml_vec_dot_q4_1_q8_1`'s generic loop): per block, the
//! exact integer sum of the 32 products is scaled by `d_x * d_y` and `m_x * s_y` is
//! added, then the block's value is added to the row's sum. Every implementation does
//! exactly these float operations (multiply and add, never fused), so all agree bit
//! for bit.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use std::arch::wasm32::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::blocks::{
    dot4_on_the_fastest_driver, dot_rows_by_fours, BlockQ4_1, BlockQ8_1, QuadQ4_1, WeightBlock,
    Q4_1_BYTES, QK,
};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::simd128;
#[cfg(target_arch = "x86_64")]
use super::{avx2, avx2_prompt, avx512_decode};

impl WeightBlock for BlockQ4_1 {
    const NAME: &'static str = "Q4_1";
    const BYTES: usize = Q4_1_BYTES;
    const MINIMUMS: bool = true;
    type Quad = QuadQ4_1;

    fn read(bytes: &[u8]) -> Self {
        BlockQ4_1::from_bytes(bytes)
    }

    fn dequantize(&self) -> [f32; QK] {
        let (d, m) = self.scales();
        std::array::from_fn(|j| {
            let q = if j < QK / 2 {
                self.qs[j] & 0x0F
            } else {
                self.qs[j - QK / 2] >> 4
            };
            q as f32 * d + m
        })
    }

    fn quad(blocks: [Self; 4]) -> QuadQ4_1 {
        QuadQ4_1 {
            d: blocks.map(|b| b.d),
            m: blocks.map(|b| b.m),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ4_1, r: usize) -> Self {
        BlockQ4_1 {
            d: quad.d[r],
            m: quad.m[r],
            qs: quad.qs[r],
        }
    }

    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_1]) -> f32 {
        let (mut acc, mut summs) = (0f32, 0f32);
        for (x, y) in xs.into_iter().zip(ys) {
            let (xd, xm) = x.scales();
            let sum: i32 = (0..QK)
                .map(|j| {
                    let q = if j < QK / 2 {
                        x.qs[j] & 0x0F
                    } else {
                        x.qs[j - QK / 2] >> 4
                    };
                    q as i32 * y.qs[j] as i32
                })
                .sum();
            acc += (xd * y.d) * sum as f32;
            summs += xm * y.s;
        }
        acc + summs
    }

    dot4_on_the_fastest_driver!();

    fn dot_rows(quads: &[QuadQ4_1], ys: &[BlockQ8_1], out: &mut [f32], rows: usize) {
        #[cfg(target_arch = "x86_64")]
        if out.len() > rows && avx2::available() {
            // SAFETY: the CPU has AVX2 and F16C.
            return unsafe { avx2_prompt::dot_rows(quads, ys, out, rows) };
        }
        #[cfg(target_arch = "x86_64")]
        if avx2::available() && avx2::avx512() {
            // SAFETY: the CPU has AVX2, F16C and AVX-512 VNNI.
            return unsafe { avx512_decode::dot_rows::<Self>(quads, ys, out, rows) };
        }
        dot_rows_by_fours::<Self>(quads, ys, out, rows, 0)
    }
}

#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    not(feature = "relaxed-simd")
))]
impl simd128::Step for BlockQ4_1 {
    type Y = [v128; 4];
    type W = [v128; 4];

    /// Widened to i16 and split by parity: even then odd positions of the first 16
    /// values, then of the last 16.
    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 4] {
        let p = y.qs.as_ptr() as *const v128;
        // SAFETY: a block has 32 values.
        let (lo, hi) = unsafe { (v128_load(p), v128_load(p.add(1))) };
        let even = |v| i16x8_shr(i16x8_shl(v, 8), 8);
        let odd = |v| i16x8_shr(v, 8);
        [even(lo), odd(lo), even(hi), odd(hi)]
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    /// As 16-bit lanes, byte 2i holds values 2i and 2i+16, byte 2i+1 values 2i+1
    /// and 2i+17: four shifts and masks split them by parity (even then odd
    /// positions of the first 16 values, then of the last 16), as `widen` does.
    #[inline(always)]
    fn unpack(quad: &QuadQ4_1, r: usize) -> [v128; 4] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(quad.qs[r].as_ptr() as *const v128) };
        let m = u16x8_splat(0x0F);
        [
            v128_and(q, m),
            v128_and(u16x8_shr(q, 8), m),
            v128_and(u16x8_shr(q, 4), m),
            u16x8_shr(q, 12),
        ]
    }

    /// The pair sums of the even and odd positions, added.
    #[inline(always)]
    fn sum(w: &[v128; 4], y16: &[v128; 4]) -> v128 {
        simd128::pair_sums(w, y16)
    }
}

#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    feature = "relaxed-simd"
))]
impl simd128::Step for BlockQ4_1 {
    type Y = [v128; 2];
    type W = [v128; 2];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 2] {
        simd128::halves(&y.qs)
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4_1) -> (v128, v128) {
        (simd128::f16x4(&quad.d), simd128::f16x4(&quad.m))
    }

    /// Values 0-15 (the low nibbles), then 16-31, as bytes in value order.
    #[inline(always)]
    fn unpack(quad: &QuadQ4_1, r: usize) -> [v128; 2] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(quad.qs[r].as_ptr() as *const v128) };
        let m = u8x16_splat(0x0F);
        [v128_and(q, m), v128_and(u16x8_shr(q, 4), m)]
    }

    /// Nibbles (0..=15, so exact on every engine) times signed bytes, in fours, the
    /// second half added onto the first.
    #[inline(always)]
    fn sum(w: &[v128; 2], y: &[v128; 2]) -> v128 {
        let low = i32x4_relaxed_dot_i8x16_i7x16_add(y[0], w[0], i32x4_splat(0));
        i32x4_relaxed_dot_i8x16_i7x16_add(y[1], w[1], low)
    }
}

#[cfg(target_arch = "x86_64")]
impl avx2::Step for BlockQ4_1 {
    #[inline(always)]
    unsafe fn scales(quad: &QuadQ4_1) -> (__m128, __m128) {
        (avx2::f16x4(&quad.d), avx2::f16x4(&quad.m))
    }

    /// The nibbles as 32 bytes in value order.
    #[inline(always)]
    unsafe fn unpack(quad: &QuadQ4_1, r: usize) -> __m256i {
        let mask = _mm_set1_epi8(0x0F);
        let q = _mm_loadu_si128(quad.qs[r].as_ptr() as *const __m128i);
        let lo = _mm_and_si128(q, mask);
        let hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        _mm256_set_m128i(hi, lo)
    }

    /// Unsigned nibbles times signed bytes (pairs at most 2*15*128: no saturation).
    #[inline(always)]
    unsafe fn operands(w: __m256i, y8: __m256i) -> (__m256i, __m256i) {
        (w, y8)
    }
}

#[cfg(target_arch = "x86_64")]
impl avx512_decode::Step16 for BlockQ4_1 {
    /// The activation block's two halves, each in every 128-bit lane.
    type Y = (__m512i, __m512i);

    #[inline(always)]
    unsafe fn activation(y: &BlockQ8_1) -> Self::Y {
        let half = |h: usize| {
            _mm512_broadcast_i32x4(_mm_loadu_si128(y.qs[16 * h..].as_ptr() as *const __m128i))
        };
        (half(0), half(1))
    }

    /// The quad's 64 bytes of nibbles in one load: the low nibbles (values 0-15)
    /// times the first half, the high ones times the second.
    #[inline(always)]
    unsafe fn partials(quad: &QuadQ4_1, (first, second): Self::Y) -> __m512i {
        let mask = _mm512_set1_epi8(0x0F);
        let v = _mm512_loadu_si512(quad.qs.as_ptr() as *const _);
        let lo = _mm512_and_si512(v, mask);
        let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), mask);
        let sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, first);
        _mm512_dpbusd_epi32(sums, hi, second)
    }

    /// From each quad's first 16 bytes: its scales, then its minimums.
    #[inline(always)]
    unsafe fn scales(quads: [&QuadQ4_1; 4]) -> (__m512, __m512) {
        let head = |i: usize| _mm_loadu_si128(quads[i] as *const QuadQ4_1 as *const __m128i);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::blocks::{assert_dot4_is_the_reference, quantize_q8_1};

    /// A small deterministic generator (no dependency on a RNG crate's stream).
    fn lcg(seed: &mut u64) -> u32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as u32
    }

    fn random_q4_1(seed: &mut u64, n: usize) -> Vec<BlockQ4_1> {
        (0..n)
            .map(|_| {
                let mut b = [0u8; 20];
                b.iter_mut().for_each(|v| *v = lcg(seed) as u8);
                // Finite f16 scales: clear the exponent's top bit.
                b[1] &= 0b1011_1111;
                b[3] &= 0b1011_1111;
                BlockQ4_1::from_bytes(&b)
            })
            .collect()
    }

    fn random_q8_1(seed: &mut u64, n: usize, scale: f32) -> Vec<BlockQ8_1> {
        let x: Vec<f32> = (0..n * 32)
            .map(|_| (lcg(seed) as f32 / u32::MAX as f32 - 0.5) * scale)
            .collect();
        let mut q = vec![BlockQ8_1::default(); n];
        quantize_q8_1(&x, &mut q);
        q
    }

    #[test]
    fn the_fast_kernel_equals_the_reference_bit_for_bit() {
        let mut seed = 7;
        for n in [1, 2, 18, 48] {
            for scale in [1e-3, 1.0, 300.0] {
                // Three activation rows: one at a time, and as a batch.
                let y = random_q8_1(&mut seed, 3 * n, scale);
                let rows: Vec<_> = (0..4).map(|_| random_q4_1(&mut seed, n)).collect();
                assert_dot4_is_the_reference([&rows[0], &rows[1], &rows[2], &rows[3]], &y);
            }
        }
    }

    #[test]
    fn extreme_blocks_sum_exactly() {
        // All nibbles 15 against all -128 (and +127): the largest integer sums; a
        // block with zero scales beside them gives zero.
        let x = BlockQ4_1 {
            d: 0x3C00, // 1.0
            m: 0,
            qs: [0xFF; 16],
        };
        let zero = BlockQ4_1 {
            d: 0,
            m: 0,
            qs: [0xAB; 16],
        };
        let y = [-128i8, 127].map(|v| BlockQ8_1 {
            qs: [v; 32],
            d: 1.0,
            s: 7.0,
        });
        let mut out = [[0f32; 4]; 2];
        BlockQ4_1::dot4(&[BlockQ4_1::quad([x, zero, x, x])], &y, &mut out);
        for (y, out) in y.iter().zip(out) {
            let want = 15.0 * 32.0 * y.qs[0] as f32;
            assert_eq!(out, [want, 0.0, want, want]);
            assert_eq!(BlockQ4_1::reference([x], &[*y]), want);
        }
    }
}
