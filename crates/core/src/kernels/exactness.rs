//! The kernels this machine picks equal the formats' reference bit for bit, every
//! format (the 32-value ones, the K-quants and the float formats): random blocks
//! (scales and float values of every size), extreme values, zero scales, one
//! activation row and several, four rows at a time and a matrix's rows at once (a
//! decode step, a few rows, a prompt); the formats read GGUF bytes as candle and
//! llama.cpp do, and keep them through their quads; and the quantiser equals its
//! reference (reading.rs: how the formats read GGUF bytes, and the quantiser).

use half::{bf16, f16};

use super::check::{dot4_mismatch, finite_blocks};
use super::formats::{
    Block32, BlockBF16, BlockF16, BlockF32, BlockFloat, BlockFormat, BlockQ4K, BlockQ4_0,
    BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0, BlockQ8_1, BlockQ8_K, Rounded,
    QK, QK_K,
};
use super::pick::{FloatSteps, WeightBlock};

/// Runs `check::<B>()` for every 32-value format, naming the one that fails.
macro_rules! every_32_value_format {
    ($check:ident $(, $arg:expr)*) => {{
        $check::<BlockQ4_0>($($arg),*);
        $check::<BlockQ4_1>($($arg),*);
        $check::<BlockQ5_0>($($arg),*);
        $check::<BlockQ5_1>($($arg),*);
        $check::<BlockQ8_0>($($arg),*);
    }};
}

/// Runs `check::<B>()` for every K-quant.
macro_rules! every_k_quant {
    ($check:ident $(, $arg:expr)*) => {{
        $check::<BlockQ4K>($($arg),*);
        $check::<BlockQ5K>($($arg),*);
        $check::<BlockQ6K>($($arg),*);
    }};
}

/// Runs `check::<B>()` for every float format.
macro_rules! every_float_format {
    ($check:ident $(, $arg:expr)*) => {{
        $check::<BlockF16>($($arg),*);
        $check::<BlockBF16>($($arg),*);
        $check::<BlockF32>($($arg),*);
    }};
}

/// Runs `check::<B>()` for every format.
macro_rules! every_format {
    ($check:ident $(, $arg:expr)*) => {{
        every_32_value_format!($check $(, $arg)*);
        every_k_quant!($check $(, $arg)*);
        every_float_format!($check $(, $arg)*);
    }};
}

/// A small deterministic generator (no dependency on a RNG crate's stream).
fn lcg(seed: &mut u64) -> u32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as u32
}

/// `n` blocks of random bytes, their scales (of any size) made finite.
fn random_blocks<B: BlockFormat>(seed: &mut u64, n: usize) -> Vec<B> {
    let bytes: Vec<u8> = (0..n * B::BYTES).map(|_| lcg(seed) as u8).collect();
    finite_blocks(&bytes)
}

/// `n` blocks of `B`'s activations, random values in `±scale / 2` quantised.
fn random_activations<B: WeightBlock>(seed: &mut u64, n: usize, scale: f32) -> Vec<B::Activation> {
    let x: Vec<f32> = (0..n * B::VALUES)
        .map(|_| (lcg(seed) as f32 / u32::MAX as f32 - 0.5) * scale)
        .collect();
    let mut q = vec![B::Activation::default(); n];
    B::quantize(&x, &mut q);
    q
}

#[test]
fn kernels_equal_the_reference_bit_for_bit() {
    every_format!(check);

    fn check<B: WeightBlock>() {
        let mut seed = 7;
        for n in [1, 2, 18, 48] {
            for scale in [1e-3, 1.0, 300.0] {
                // Three activation rows: one at a time, and as a batch.
                let y = random_activations::<B>(&mut seed, 3 * n, scale);
                let rows: Vec<Vec<B>> = (0..4).map(|_| random_blocks(&mut seed, n)).collect();
                if let Some(mismatch) = dot4_mismatch([&rows[0], &rows[1], &rows[2], &rows[3]], &y)
                {
                    panic!("{mismatch}");
                }
            }
        }
    }
}

/// Blocks whose values are all the format's largest or all its smallest (scale 1,
/// minimum 0), against activations all -128 (but for Q8_0, whose x86 kernel negates
/// them: the quantiser never writes -128), -127 or 127: the largest integer sums,
/// exact; a block with zero scales beside them gives zero.
#[test]
fn extreme_blocks_sum_exactly() {
    every_32_value_format!(check);

    fn check<B: WeightBlock + Block32>() {
        let block = |fill: u8| {
            let mut bytes = vec![fill; B::BYTES];
            bytes[..2].copy_from_slice(&0x3C00u16.to_le_bytes()); // d = 1.0
            if B::MINIMUMS {
                bytes[2..4].fill(0);
            }
            // Q8_0's 0x80 reads as -127, its smallest value.
            B::read(&bytes)
        };
        let mut zero = vec![0xAB; B::BYTES];
        zero[..4].fill(0);
        let zero = B::read(&zero);
        let lowest = if B::NAME == "Q8_0" { -127 } else { -128 };
        let ys = [lowest, -127, 127].map(|v| BlockQ8_1 {
            qs: [v; QK],
            d: 1.0,
            s: 7.0,
            sum: QK as i32 * v as i32,
        });
        for x in [0xFF, 0x00, 0x80, 0x7F].map(block) {
            let mut out = [[0f32; 4]; 3];
            B::dot4(&[B::quad([x, zero, x, x])], &ys, &mut out);
            for (y, out) in ys.iter().zip(out) {
                let exact: i32 = x.values().iter().map(|&q| q as i32 * y.qs[0] as i32).sum();
                let want = exact as f32;
                assert_eq!(out, [want, 0.0, want, want], "{}", B::NAME);
                assert_eq!(B::reference([x], &[*y]), want, "{}", B::NAME);
            }
        }
    }
}

/// K-quant super-blocks whose values are all the format's largest or all its smallest,
/// with the largest sub-block scales and minimums (Q6_K's scales 127, -128 and -127 in
/// turn), scales 1, against activations all -128, -127 or 127 (bsums to match): the
/// largest integer sums, exact, within a rounding or two of the weights' dot product;
/// a super-block with zero scales beside them gives zero.
#[test]
fn extreme_super_blocks_sum_exactly() {
    every_k_quant!(check);

    fn check<B: WeightBlock<Activation = BlockQ8_K>>() {
        let one = 0x3C00u16.to_le_bytes();
        let block = |fill: u8, scales: u8| {
            let mut bytes = vec![fill; B::BYTES];
            match B::NAME {
                "Q6_K" => {
                    for (g, b) in bytes[192..208].iter_mut().enumerate() {
                        *b = match scales {
                            0xFF => [0x7F, 0x80, 0x81][g % 3],
                            s => s,
                        };
                    }
                }
                _ => {
                    bytes[2..4].copy_from_slice(&one);
                    bytes[4..16].fill(scales);
                }
            }
            let d = B::HALVES[0];
            bytes[d..d + 2].copy_from_slice(&one);
            bytes
        };
        let zero = B::read(&vec![0u8; B::BYTES]);
        let ys = [-128i8, -127, 127].map(|v| BlockQ8_K {
            qs: [v; QK_K],
            d: 1.0,
            bsums: [16 * v as i16; 16],
        });
        for bytes in
            [(0xFF, 0xFF), (0x00, 0xFF), (0xFF, 0x00), (0xAA, 0x55)].map(|(f, s)| block(f, s))
        {
            let x = B::read(&bytes);
            let mut out = [[0f32; 4]; 3];
            B::dot4(&[B::quad([x, zero, x, x])], &ys, &mut out);
            for (y, out) in ys.iter().zip(out) {
                let want = B::reference([x], &[*y]);
                let got = out.map(f32::to_bits);
                assert_eq!(
                    got,
                    [want, 0.0, want, want].map(f32::to_bits),
                    "{}",
                    B::NAME
                );
                let (exact, size) = exact_and_size::<B>(&bytes, y);
                assert!((want as f64 - exact).abs() <= size * 1e-6, "{}", B::NAME);
            }
        }
    }
}

/// A K-quant super-block's (its bytes) dot product with an activation super-block, in
/// f64 from its dequantised weights, and the size of the terms the reference sums:
/// the scaled values' and the minimums' (the same block with no minimums gives the
/// first, and the difference the second).
fn exact_and_size<B: BlockFormat<Activation = BlockQ8_K>>(
    bytes: &[u8],
    y: &BlockQ8_K,
) -> (f64, f64) {
    let mut scaled_only = bytes.to_vec();
    if let Some(&m) = B::HALVES.get(1) {
        scaled_only[m..m + 2].fill(0);
    }
    let (mut w, mut a) = ([0f32; QK_K], [0f32; QK_K]);
    B::read(bytes).dequantize_into(&mut w);
    B::read(&scaled_only).dequantize_into(&mut a);
    let (mut exact, mut size) = (0f64, 0f64);
    for ((&w, &a), &q) in w.iter().zip(&a).zip(&y.qs) {
        let v = q as f64 * y.d as f64;
        exact += w as f64 * v;
        size += (a as f64 * v).abs() + ((a as f64 - w as f64) * v).abs();
    }
    (exact, size)
}

/// Both x86 drivers of the K-quants, where this CPU has them (the dispatch takes only
/// one), equal the reference bit for bit: random super-blocks against one, two and
/// five activation rows (the quantiser's extremes among them), and the extreme ones.
#[cfg(target_arch = "x86_64")]
#[test]
fn both_x86_k_quant_drivers_equal_the_reference() {
    use super::x86::{avx2, avx2_k, avx512_k};
    every_k_quant!(check);

    fn check<B: avx512_k::Step512 + WeightBlock>() {
        type Driver<B> = unsafe fn(&[<B as BlockFormat>::Quad], &[BlockQ8_K], &mut [[f32; 4]]);
        let drivers: [(bool, Driver<B>); 2] = [
            (avx2::available(), avx2_k::dot4::<B>),
            (avx2::available() && avx2::avx512(), avx512_k::dot4::<B>),
        ];
        let mut seed = 13;
        for (_, driver) in drivers.iter().filter(|(on_this_cpu, _)| *on_this_cpu) {
            for (n, t) in [(1, 1), (3, 2), (8, 5)] {
                let rows: Vec<Vec<B>> = (0..4).map(|_| random_blocks(&mut seed, n)).collect();
                let mut ys = random_activations::<B>(&mut seed, t * n, 3.0);
                ys[0].qs = [127; QK_K];
                ys[t * n - 1].qs = [-127; QK_K];
                for y in &mut ys {
                    y.bsums = std::array::from_fn(|j| {
                        y.qs[16 * j..][..16].iter().map(|&q| q as i16).sum()
                    });
                }
                let quads = B::quads([&rows[0], &rows[1], &rows[2], &rows[3]]);
                let mut out = vec![[0f32; 4]; t];
                // SAFETY: the CPU has what the driver needs.
                unsafe { driver(&quads, &ys, &mut out) };
                for (ys, out) in ys.chunks(n).zip(&out) {
                    for (r, row) in rows.iter().enumerate() {
                        let want = B::reference(row.iter().copied(), ys);
                        assert_eq!(out[r].to_bits(), want.to_bits(), "{} row {r}", B::NAME);
                    }
                }
            }
        }
    }
}

/// Float blocks of extreme values against activations that round to extreme values:
/// the largest finite f16s (for F16), values near 2^120 (BF16, F32: large, with room
/// for sums), the smallest subnormals, sums that cancel; and small values whose
/// products all lie below f32's normal range, where BF16's and F32's round (a fused
/// multiply-add would not give the same bits; F16's are zero). Every kernel this
/// machine has (both x86 drivers where the CPU has them) equals the reference.
#[test]
fn extreme_float_values_equal_the_reference() {
    check::<f16>();
    check::<bf16>();
    check::<f32>();

    fn check<T: FloatSteps>() {
        let (big, tiny, top) = match T::WIDE_EXPONENT {
            false => (65504.0, 2f32.powi(-24), 65504.0),
            true => (2f32.powi(120), f32::from_bits(0x0001_0000), 0.5),
        };
        let values = [big, -big, tiny, -tiny, 1.0, -1.0, 1e-20, 3e-30, 0.0, -0.0];
        let extreme = |i: usize| values[i % values.len()];
        let small = |i: usize| 1e-22 * (1.0 + (i % 37) as f32 / 37.0);
        // The weights (value j of block i is w[i + 7j]) and activations (repeated).
        let cases = [
            (
                (0..256).map(extreme).collect::<Vec<f32>>(),
                [1e-20, -3e-30, 1.0, 1.0 + 2f32.powi(-11), 1e-3, top],
            ),
            (
                (0..256).map(small).collect(),
                [1e-20, -1.3e-20, 1.7e-20, 1.1e-20, -1.9e-20, 1.5e-20],
            ),
        ];
        for (w, x) in cases {
            let block = |i: usize| BlockFloat {
                values: std::array::from_fn(|j| T::from_f32(w[i + 7 * j])),
            };
            let rows: Vec<Vec<BlockFloat<T>>> = (0..4)
                .map(|r| (0..3).map(|b| block(r + 3 * b)).collect())
                .collect();
            let x: Vec<f32> = (0..2 * 3 * QK).map(|i| x[i % x.len()]).collect();
            let mut ys = vec![Rounded::default(); 2 * 3];
            BlockFloat::<T>::quantize(&x, &mut ys);
            if let Some(mismatch) = dot4_mismatch([&rows[0], &rows[1], &rows[2], &rows[3]], &ys) {
                panic!("{mismatch}");
            }
            #[cfg(target_arch = "x86_64")]
            both_x86_float_drivers(&rows, &ys);
        }
    }
}

/// Both x86 drivers of the float formats, where this CPU has them (the dispatch
/// takes only one), equal the reference bit for bit: random blocks against one, two
/// and five activation rows.
#[cfg(target_arch = "x86_64")]
#[test]
fn both_x86_float_drivers_equal_the_reference() {
    check::<f16>();
    check::<bf16>();
    check::<f32>();

    fn check<T: FloatSteps>() {
        let mut seed = 17;
        for (n, t) in [(1, 1), (3, 2), (8, 5)] {
            let rows: Vec<Vec<BlockFloat<T>>> =
                (0..4).map(|_| random_blocks(&mut seed, n)).collect();
            let ys = random_activations::<BlockFloat<T>>(&mut seed, t * n, 30.0);
            both_x86_float_drivers(&rows, &ys);
        }
    }
}

/// Four rows of float blocks times the activation rows `ys` on each x86 driver this
/// CPU has equal the reference.
#[cfg(target_arch = "x86_64")]
fn both_x86_float_drivers<T: FloatSteps>(rows: &[Vec<BlockFloat<T>>], ys: &[Rounded<T>]) {
    use super::formats::QuadFloat;
    use super::x86::{avx2_float, avx512_float};
    type Driver<T> = unsafe fn(&[QuadFloat<T>], &[Rounded<T>], &mut [[f32; 4]]);
    let drivers: [(bool, Driver<T>); 2] = [
        (avx2_float::available(), avx2_float::dot4::<T>),
        (
            avx2_float::available() && avx512_float::available(),
            avx512_float::dot4::<T>,
        ),
    ];
    let n = rows[0].len();
    let quads = BlockFloat::quads([&rows[0], &rows[1], &rows[2], &rows[3]]);
    for (_, driver) in drivers.iter().filter(|(on_this_cpu, _)| *on_this_cpu) {
        let mut out = vec![[0f32; 4]; ys.len() / n];
        // SAFETY: the CPU has what the driver needs.
        unsafe { driver(&quads, ys, &mut out) };
        for (ys, out) in ys.chunks(n).zip(&out) {
            for (r, row) in rows.iter().enumerate() {
                let want = BlockFloat::reference(row.iter().copied(), ys);
                assert_eq!(out[r].to_bits(), want.to_bits(), "{} row {r}", T::NAME);
            }
        }
    }
}

#[test]
fn q8_0_reads_minus_128_as_minus_127() {
    let mut bytes = [0x80u8; BlockQ8_0::BYTES];
    bytes[..2].copy_from_slice(&0x3C00u16.to_le_bytes());
    assert!(BlockQ8_0::read(&bytes).values().iter().all(|&q| q == -127));
}

/// A matrix's rows at once through the dispatch (a prompt kernel, the decode kernel,
/// then fours) equal the reference: a decode step, a few activation rows, and
/// prompts.
#[test]
fn dot_rows_equal_the_reference_for_decode_steps_and_prompts() {
    every_format!(check);

    fn check<B: WeightBlock>() {
        let mut seed = 5;
        let (n, rows) = (5, 20);
        let blocks: Vec<Vec<B>> = (0..rows).map(|_| random_blocks(&mut seed, n)).collect();
        let quads: Vec<B::Quad> = blocks
            .chunks(4)
            .flat_map(|f| B::quads([&f[0], &f[1], &f[2], &f[3]]))
            .collect();
        for t in [1, 2, 3, 4, 5, 17, 64] {
            // The quantiser's extremes (it never writes -128): a first block of equal
            // values all ±127, and a last one of the other sign.
            let x: Vec<f32> = (0..t * n * B::VALUES)
                .map(|i| match i {
                    i if i < B::VALUES => 1.0,
                    i if i >= (t * n - 1) * B::VALUES => -1.0,
                    _ => lcg(&mut seed) as f32 / u32::MAX as f32 - 0.5,
                })
                .collect();
            let mut ys = vec![B::Activation::default(); t * n];
            B::quantize(&x, &mut ys);
            let mut out = vec![0f32; t * rows];
            B::dot_rows(&quads, &ys, &mut out, rows);
            for (a, out) in out.chunks(rows).enumerate() {
                for (r, dot) in out.iter().enumerate() {
                    let want = B::reference(blocks[r].iter().copied(), &ys[a * n..][..n]);
                    assert_eq!(
                        dot.to_bits(),
                        want.to_bits(),
                        "{} row {r}, activation row {a} of {t}",
                        B::NAME
                    );
                }
            }
        }
    }
}

mod reading;
