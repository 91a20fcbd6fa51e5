//! The formats read GGUF bytes as candle and llama.cpp do and keep them through
//! their quads; the float formats' reference is close to the exact dot product; and
//! the Q8_1 quantiser keeps values within half a step and equals its reference.

use std::borrow::Cow;

use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::Device;
use half::{bf16, f16};

use super::super::formats::{
    quantize_q8_1_reference, spread, unspread, Block32, BlockBF16, BlockF16, BlockF32, BlockFloat,
    BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K,
    BlockQ8_0, BlockQ8_1, BlockQ8_K, QK,
};
use super::super::pick::{quantize_q8_1, FloatSteps, WeightBlock};
use super::{exact_and_size, lcg, random_activations};

/// Each format reads GGUF bytes as candle does: the same dequantised weights, bit for
/// bit; its quads give back the blocks they were made of; and its reference is the dot
/// product of those weights with the activations' (to float rounding).
#[test]
fn formats_read_gguf_bytes_as_candle_does() {
    check::<BlockQ4_0>(GgmlDType::Q4_0);
    check::<BlockQ4_1>(GgmlDType::Q4_1);
    check::<BlockQ5_0>(GgmlDType::Q5_0);
    check::<BlockQ5_1>(GgmlDType::Q5_1);
    check::<BlockQ8_0>(GgmlDType::Q8_0);
    check::<BlockQ4K>(GgmlDType::Q4K);
    check::<BlockQ5K>(GgmlDType::Q5K);
    check::<BlockQ6K>(GgmlDType::Q6K);
    check::<BlockF16>(GgmlDType::F16);
    check::<BlockBF16>(GgmlDType::BF16);
    check::<BlockF32>(GgmlDType::F32);
    every_32_value_format!(close_to_exact);
    every_k_quant!(close_to_exact_k);
    close_to_exact_float::<f16>();
    close_to_exact_float::<bf16>();
    close_to_exact_float::<f32>();

    fn check<B: WeightBlock + PartialEq + std::fmt::Debug>(dtype: GgmlDType) {
        let blocks = near_one::<B>(64);
        let bytes = &blocks.1;
        let n = blocks.0.len();
        let mut ours = vec![0f32; n * B::VALUES];
        for (b, out) in blocks.0.iter().zip(ours.chunks_exact_mut(B::VALUES)) {
            b.dequantize_into(out);
        }
        let storage = QStorage::from_data(Cow::Borrowed(bytes), &Device::Cpu, dtype).unwrap();
        let theirs = QTensor::new(storage, (n * B::VALUES,))
            .unwrap()
            .dequantize(&Device::Cpu)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert!(
            ours.iter()
                .zip(&theirs)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}",
            B::NAME
        );
        for four in blocks.0.chunks(4) {
            let quad = B::quad(four.try_into().unwrap());
            for (r, b) in four.iter().enumerate() {
                assert_eq!(B::block(&quad, r), *b, "{}", B::NAME);
            }
        }
    }

    fn close_to_exact<B: WeightBlock + Block32>() {
        let (blocks, _) = near_one::<B>(64);
        let mut seed = 4;
        let ys = random_activations::<B>(&mut seed, blocks.len(), 10.0);
        for (x, y) in blocks.iter().zip(&ys) {
            let terms = x.dequantize().map(|w| w as f64).into_iter().zip(&y.qs);
            let terms: Vec<f64> = terms.map(|(w, &q)| w * q as f64 * y.d as f64).collect();
            let exact: f64 = terms.iter().sum();
            let size: f64 = terms.iter().map(|t| t.abs()).sum();
            // The reference adds the minimum's term through y.s, an f16 rounding.
            let (_, m) = x.scale_and_minimum();
            let ours = B::reference([*x], &[*y]) as f64;
            let sum_y: i32 = y.qs.iter().map(|&q| q as i32).sum();
            let slack = (m as f64 * (y.s as f64 - y.d as f64 * sum_y as f64)).abs();
            assert!(
                (ours - exact).abs() <= size * 1e-5 + slack * 1.01 + 1e-6,
                "{}: {ours} for {exact}",
                B::NAME
            );
        }
    }

    /// Rows of eight super-blocks against random activations: the reference is within
    /// float rounding of the exact sum, measured against the sizes of the scaled and
    /// the minimums' terms (which it subtracts).
    fn close_to_exact_k<B: WeightBlock<Activation = BlockQ8_K>>() {
        let (blocks, bytes) = near_one::<B>(64);
        let mut seed = 4;
        let ys = random_activations::<B>(&mut seed, 8, 10.0);
        for (row, bytes) in blocks.chunks(8).zip(bytes.chunks(8 * B::BYTES)) {
            let (mut exact, mut size) = (0f64, 0f64);
            for (bytes, y) in bytes.chunks(B::BYTES).zip(&ys) {
                let (e, s) = exact_and_size::<B>(bytes, y);
                (exact, size) = (exact + e, size + s);
            }
            let ours = B::reference(row.iter().copied(), &ys) as f64;
            assert!(
                (ours - exact).abs() <= size * 1e-5 + 1e-6,
                "{}: {ours} for {exact}",
                B::NAME
            );
        }
    }
}

/// Rows of eight float blocks against random activations: the reference is within
/// float rounding of the exact dot product of the weights and the rounded
/// activations, measured against the size of its terms.
fn close_to_exact_float<T: FloatSteps>() {
    let (blocks, _) = near_one::<BlockFloat<T>>(64);
    let mut seed = 4;
    let ys = random_activations::<BlockFloat<T>>(&mut seed, 8, 10.0);
    for row in blocks.chunks(8) {
        let terms = row.iter().zip(&ys).flat_map(|(x, y)| {
            let w = x.values.map(|w| w.to_f32() as f64);
            w.into_iter().zip(y.values).map(|(w, v)| w * v as f64)
        });
        let (exact, size) = terms.fold((0f64, 0f64), |(e, s), t| (e + t, s + t.abs()));
        let ours = BlockFloat::reference(row.iter().copied(), &ys) as f64;
        assert!(
            (ours - exact).abs() <= size * 1e-6,
            "{}: {ours} for {exact}",
            T::NAME
        );
    }
}

/// `n` blocks of random bytes whose 16-bit floats (f16 scales and minimums, float
/// values) have high bytes `0x38 | sign | two mantissa bits` (f16s near 1, bf16s near
/// 2^-15: of a few sizes, so that products are checked to a tight tolerance), and the
/// bytes. No byte 0x80 in Q8_0 (it reads -128 as -127, candle as it is).
fn near_one<B: BlockFormat>(n: usize) -> (Vec<B>, Vec<u8>) {
    let mut seed = 3;
    let mut bytes: Vec<u8> = (0..n * B::BYTES)
        .map(|_| match B::NAME {
            "Q8_0" => (lcg(&mut seed) as u8).max(0x81),
            _ => lcg(&mut seed) as u8,
        })
        .collect();
    for b in bytes.chunks_mut(B::BYTES) {
        for &h in B::HALVES {
            b[h + 1] = 0x38 | (b[h + 1] & 0x83);
        }
    }
    (bytes.chunks(B::BYTES).map(B::read).collect(), bytes)
}

#[test]
fn fifth_bits_spread_and_back() {
    let mut seed = 9;
    for qh in (0..1000)
        .map(|_| lcg(&mut seed))
        .chain([0, 1, 1 << 31, u32::MAX])
    {
        assert_eq!(unspread(spread(qh)), qh);
        for j in 0..QK {
            let at = 8 * (j % 4) + j / 4;
            assert_eq!((spread(qh) >> at) & 1, (qh >> j) & 1, "bit {j}");
        }
    }
}

#[test]
fn q8_1_keeps_values_within_half_a_step_and_sums() {
    let x: Vec<f32> = (0..64)
        .map(|i| ((i * 37 % 64) as f32 - 30.5) * 0.173)
        .collect();
    let mut q = vec![BlockQ8_1::default(); 2];
    quantize_q8_1(&x, &mut q);
    for (xs, b) in x.chunks(QK).zip(&q) {
        let max = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(b.qs.iter().any(|&v| v.abs() == 127));
        for (&v, &qv) in xs.iter().zip(&b.qs) {
            assert!((v - qv as f32 * max / 127.0).abs() <= max / 127.0 * 0.5001);
        }
        let sum: i32 = b.qs.iter().map(|&v| v as i32).sum();
        assert!((b.s - b.d * sum as f32).abs() <= b.s.abs() * 1e-3 + 1e-6);
    }
}

#[test]
fn the_fast_quantiser_equals_the_reference() {
    // Ties (half to even), every value's order of magnitude, a block of zeros.
    let mut x: Vec<f32> = (0..32)
        .map(|i| [127.0, 2.5, -2.5, 3.5, -0.5, 1.5, -126.5][i % 7])
        .collect();
    x.extend((0..64).map(|i| ((i * 37 % 64) as f32 - 30.5) * 1.7f32.powi(i % 19 - 9)));
    x.extend([0.0; 32]);
    let (mut fast, mut reference) = ([BlockQ8_1::default(); 4], [BlockQ8_1::default(); 4]);
    quantize_q8_1(&x, &mut fast);
    quantize_q8_1_reference(&x, &mut reference);
    assert_eq!(fast, reference);
    assert_eq!(&fast[0].qs[..7], &[127, 2, -2, 4, 0, 2, -126]);
}

#[test]
fn zeros_quantise_to_zero_scales() {
    let mut q = vec![BlockQ8_1::default(); 1];
    quantize_q8_1(&[0.0; QK], &mut q);
    assert_eq!(q[0], BlockQ8_1::default());
}
