//! The kernels this machine picks equal the formats' reference bit for bit: random
//! blocks, extreme values, zero scales, one activation row and several, four rows at
//! a time and a matrix's rows at once; and the quantiser equals its reference.

use super::check::dot4_mismatch;
use super::formats::{quantize_q8_1_reference, BlockFormat, BlockQ4_1, BlockQ8_0, BlockQ8_1, QK};
use super::pick::{quantize_q8_1, WeightBlock};

/// Asserts that the kernel's four rows equal the reference against `ys`.
fn assert_dot4_is_the_reference<B: WeightBlock>(rows: [&[B]; 4], ys: &[BlockQ8_1]) {
    if let Some(mismatch) = dot4_mismatch(rows, ys) {
        panic!("{mismatch}");
    }
}

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
fn q4_1_kernels_equal_the_reference_bit_for_bit() {
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
fn q4_1_extreme_blocks_sum_exactly() {
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

fn random_q8_0(seed: &mut u64, n: usize) -> Vec<BlockQ8_0> {
    (0..n)
        .map(|_| {
            let mut b = [0u8; BlockQ8_0::BYTES];
            b.iter_mut().for_each(|v| *v = lcg(seed) as u8);
            b[1] &= 0b1011_1111; // a finite f16 scale
            BlockQ8_0::from_bytes(&b)
        })
        .collect()
}

#[test]
fn q8_0_kernels_equal_the_reference_bit_for_bit() {
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
fn q8_0_extreme_values_sum_exactly_and_minus_128_reads_as_minus_127() {
    let mut bytes = [0x80u8; BlockQ8_0::BYTES]; // every value -128
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

/// A matrix's rows at once through the dispatch (a prompt kernel, the decode kernel,
/// then fours) equal the reference, for one to five activation rows, both formats.
#[test]
fn dot_rows_equal_the_reference_for_one_to_five_activation_rows() {
    let mut seed = 5;
    check::<BlockQ4_1>(&mut seed, random_q4_1);
    check::<BlockQ8_0>(&mut seed, random_q8_0);

    fn check<B: WeightBlock>(seed: &mut u64, random: fn(&mut u64, usize) -> Vec<B>) {
        let (n, rows) = (5, 20);
        let blocks: Vec<Vec<B>> = (0..rows).map(|_| random(seed, n)).collect();
        let quads: Vec<B::Quad> = blocks
            .chunks(4)
            .flat_map(|f| B::quads([&f[0], &f[1], &f[2], &f[3]]))
            .collect();
        for t in 1..=5 {
            // The quantiser's extremes (it never writes -128).
            let mut ys = random_q8_1(seed, t * n, 1.0);
            ys[t * n - 1].qs = [-127; QK];
            ys[0].qs = [127; QK];
            let mut out = vec![0f32; t * rows];
            B::dot_rows(&quads, &ys, &mut out, rows);
            for (a, out) in out.chunks(rows).enumerate() {
                for (r, dot) in out.iter().enumerate() {
                    let want = B::reference(blocks[r].iter().copied(), &ys[a * n..][..n]);
                    assert_eq!(
                        dot.to_bits(),
                        want.to_bits(),
                        "row {r}, activation row {a} of {t}"
                    );
                }
            }
        }
    }
}
