//! The dot product of Q8_0 rows (the output and embedding matrix) and a Q8_1
//! activation row, in the same shape as the Q4_1 kernel: per block, the exact
//! integer sum of the 32 products is scaled by `d_x * d_y` and added to the row's
//! sum. Every implementation does the same float operations, so all agree bit for
//! bit.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use std::arch::wasm32::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::blocks::{
    dot4_on_the_fastest_driver, dot_rows_by_fours, f16_to_f32, BlockQ8_0, BlockQ8_1, QuadQ8_0,
    WeightBlock, Q8_0_BYTES, QK,
};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::simd128;
#[cfg(target_arch = "x86_64")]
use super::{avx2, avx512_decode};

impl WeightBlock for BlockQ8_0 {
    const NAME: &'static str = "Q8_0";
    const BYTES: usize = Q8_0_BYTES;
    const MINIMUMS: bool = false;
    type Quad = QuadQ8_0;

    fn read(bytes: &[u8]) -> Self {
        BlockQ8_0::from_bytes(bytes)
    }

    fn dequantize(&self) -> [f32; QK] {
        let d = f16_to_f32(self.d);
        std::array::from_fn(|j| self.qs[j] as f32 * d)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ8_0 {
        QuadQ8_0 {
            d: blocks.map(|b| b.d),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ8_0, r: usize) -> Self {
        BlockQ8_0 {
            d: quad.d[r],
            qs: quad.qs[r],
        }
    }

    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_1]) -> f32 {
        let mut acc = 0f32;
        for (x, y) in xs.into_iter().zip(ys) {
            let sum: i32 = (0..QK).map(|j| x.qs[j] as i32 * y.qs[j] as i32).sum();
            acc += (f16_to_f32(x.d) * y.d) * sum as f32;
        }
        acc
    }

    dot4_on_the_fastest_driver!();

    fn dot_rows(quads: &[QuadQ8_0], ys: &[BlockQ8_1], out: &mut [f32], rows: usize) {
        #[cfg(target_arch = "x86_64")]
        if out.len() == rows && avx2::available() && avx2::avx512() {
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
impl simd128::Step for BlockQ8_0 {
    type Y = [v128; 4];
    type W = [v128; 4];

    /// Widened to i16 in order.
    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 4] {
        let p = y.qs.as_ptr();
        // SAFETY: a block has 32 values.
        std::array::from_fn(|i| unsafe { i16x8_load_extend_i8x8(p.add(8 * i)) })
    }

    #[inline(always)]
    fn scales(quad: &QuadQ8_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    /// Widened to i16 in order.
    #[inline(always)]
    fn unpack(quad: &QuadQ8_0, r: usize) -> [v128; 4] {
        let p = quad.qs[r].as_ptr();
        // SAFETY: a block has 32 values.
        std::array::from_fn(|i| unsafe { i16x8_load_extend_i8x8(p.add(8 * i)) })
    }

    /// Sums of pairs, added.
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
impl simd128::Step for BlockQ8_0 {
    type Y = [v128; 2];
    type W = [v128; 2];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> [v128; 2] {
        simd128::halves(&y.qs)
    }

    #[inline(always)]
    fn scales(quad: &QuadQ8_0) -> (v128, v128) {
        (simd128::f16x4(&quad.d), f32x4_splat(0.0))
    }

    /// The values as they are.
    #[inline(always)]
    fn unpack(quad: &QuadQ8_0, r: usize) -> [v128; 2] {
        simd128::halves(&quad.qs[r])
    }

    /// |x| (within 0..=127, so exact on every engine) times y with x's sign, in
    /// fours; y is within ±127, so negating it cannot overflow.
    #[inline(always)]
    fn sum(w: &[v128; 2], y: &[v128; 2]) -> v128 {
        let half = |w: v128, y: v128, acc: v128| {
            let sign = i8x16_lt(w, i8x16_splat(0));
            let y = i8x16_sub(v128_xor(y, sign), sign);
            i32x4_relaxed_dot_i8x16_i7x16_add(y, i8x16_abs(w), acc)
        };
        half(w[1], y[1], half(w[0], y[0], i32x4_splat(0)))
    }
}

#[cfg(target_arch = "x86_64")]
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
}

#[cfg(target_arch = "x86_64")]
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
        let d = |i: usize| (quads[i].d.as_ptr() as *const i64).read_unaligned();
        let rows = _mm512_cvtph_ps(_mm256_setr_epi64x(d(0), d(1), d(2), d(3)));
        let order = _mm512_loadu_si512(avx512_decode::LANE_ORDER.as_ptr() as *const _);
        (_mm512_permutexvar_ps(order, rows), _mm512_setzero_ps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::blocks::{assert_dot4_is_the_reference, quantize_q8_1};

    fn lcg(seed: &mut u64) -> u32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as u32
    }

    fn random_q8_0(seed: &mut u64, n: usize) -> Vec<BlockQ8_0> {
        (0..n)
            .map(|_| {
                let mut b = [0u8; Q8_0_BYTES];
                b.iter_mut().for_each(|v| *v = lcg(seed) as u8);
                b[1] &= 0b1011_1111; // a finite f16 scale
                BlockQ8_0::from_bytes(&b)
            })
            .collect()
    }

    fn random_q8_1(seed: &mut u64, n: usize, scale: f32) -> Vec<BlockQ8_1> {
        let x: Vec<f32> = (0..n * QK)
            .map(|_| (lcg(seed) as f32 / u32::MAX as f32 - 0.5) * scale)
            .collect();
        let mut q = vec![BlockQ8_1::default(); n];
        quantize_q8_1(&x, &mut q);
        q
    }

    #[test]
    fn the_fast_kernels_equal_the_reference_bit_for_bit() {
        let mut seed = 11;
        for n in [1, 2, 18, 48] {
            for scale in [1e-3, 1.0, 300.0] {
                // Three activation rows: one at a time, and as a batch.
                let y = random_q8_1(&mut seed, 3 * n, scale);
                let rows: Vec<_> = (0..4).map(|_| random_q8_0(&mut seed, n)).collect();
                assert_dot4_is_the_reference([&rows[0], &rows[1], &rows[2], &rows[3]], &y);
            }
        }
    }

    #[test]
    fn extreme_values_sum_exactly_and_minus_128_reads_as_minus_127() {
        let mut bytes = [0x80u8; Q8_0_BYTES]; // every value -128
        bytes[..2].copy_from_slice(&0x3C00u16.to_le_bytes()); // d = 1.0
        let x = BlockQ8_0::from_bytes(&bytes);
        assert!(x.qs.iter().all(|&q| q == -127));
        for v in [-127i8, 127] {
            let y = BlockQ8_1 {
                qs: [v; QK],
                d: 1.0,
                s: 0.0,
            };
            let want = -127.0 * 32.0 * v as f32;
            let mut out = [[0f32; 4]];
            BlockQ8_0::dot4(
                &[BlockQ8_0::quad([x, BlockQ8_0::default(), x, x])],
                &[y],
                &mut out,
            );
            assert_eq!(out[0], [want, 0.0, want, want]);
            assert_eq!(BlockQ8_0::reference([x], &[y]), want);
        }
    }

    #[test]
    fn dequantized_values_are_scale_times_value() {
        let mut bytes = [0u8; Q8_0_BYTES];
        bytes[..2].copy_from_slice(&0x3800u16.to_le_bytes()); // d = 0.5
        bytes[2] = 6;
        bytes[3] = (-4i8) as u8;
        let w = BlockQ8_0::from_bytes(&bytes).dequantize();
        assert_eq!(&w[..3], &[3.0, -2.0, 0.0]);
    }
}
