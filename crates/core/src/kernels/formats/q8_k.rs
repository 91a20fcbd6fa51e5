//! Q8_K activations (GGML's `block_q8_K`): 256 values as bytes with an f32 scale and
//! the sums of each 16, what the K-quants' products take; and the quantiser.

use super::q8_1::round_ties_even;
use super::{ActivationBlock, QK_K};

/// 256 activations as `x ≈ d * q` (GGML's `block_q8_K`), with the exact sums of each
/// 16 values, which the K-quants' minimums and offsets are multiplied by.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(32))]
pub struct BlockQ8_K {
    /// The values, within -127..=127.
    pub qs: [i8; QK_K],
    /// Scale.
    pub d: f32,
    /// `bsums[j]`: the sum of values `16j..16j + 16`.
    pub bsums: [i16; QK_K / 16],
}

impl Default for BlockQ8_K {
    fn default() -> Self {
        BlockQ8_K {
            qs: [0; QK_K],
            d: 0.0,
            bsums: [0; QK_K / 16],
        }
    }
}

impl ActivationBlock for BlockQ8_K {
    const VALUES: usize = QK_K;

    fn quantize_reference(x: &[f32], out: &mut [Self]) {
        quantize_q8_k(x, out)
    }
}

/// Quantise `x` (a multiple of 256 long) into `out` as llama.cpp's
/// `quantize_row_q8_K_ref` does: `max` is the first value of the largest magnitude,
/// with its sign; `iscale = -127 / max`, `q = min(127, round_half_even(iscale * x))`,
/// `d = 1 / iscale`; a block of zeros is all zeros. Plain Rust, and the only Q8_K
/// quantiser (it is a small part of a product: the compiler vectorises its loops).
pub fn quantize_q8_k(x: &[f32], out: &mut [BlockQ8_K]) {
    debug_assert_eq!(x.len(), out.len() * QK_K);
    for (xs, block) in x.chunks_exact(QK_K).zip(out.iter_mut()) {
        // Eight running maxima, in lanes the compiler vectorises; max is exact in any
        // order (and, as llama.cpp's `ax > amax`, passes NaN over).
        let mut lanes = [0f32; 8];
        for eight in xs.chunks_exact(8) {
            for (m, v) in lanes.iter_mut().zip(eight) {
                *m = m.max(v.abs());
            }
        }
        let amax = lanes.iter().fold(0f32, |m, &v| m.max(v));
        if amax == 0.0 {
            *block = BlockQ8_K::default();
            continue;
        }
        let max = *xs
            .iter()
            .find(|v| v.abs() == amax)
            .expect("amax is one of them");
        let iscale = -127.0 / max;
        for (q, &v) in block.qs.iter_mut().zip(xs) {
            *q = round_ties_even(iscale * v).min(127.0) as i8;
        }
        for (sum, sixteen) in block.bsums.iter_mut().zip(block.qs.chunks_exact(16)) {
            *sum = sixteen.iter().map(|&q| q as i16).sum();
        }
        block.d = 1.0 / iscale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// llama.cpp's loop as written: the first value of the largest magnitude, a strict
    /// `>` over the values in order.
    fn llama_cpp(xs: &[f32]) -> BlockQ8_K {
        let (mut max, mut amax) = (0f32, 0f32);
        for &x in xs {
            if x.abs() > amax {
                amax = x.abs();
                max = x;
            }
        }
        if amax == 0.0 {
            return BlockQ8_K::default();
        }
        let iscale = -127.0 / max;
        let qs: [i8; QK_K] =
            std::array::from_fn(|j| ((iscale * xs[j]).round_ties_even() as i32).min(127) as i8);
        BlockQ8_K {
            qs,
            d: 1.0 / iscale,
            bsums: std::array::from_fn(|j| qs[16 * j..][..16].iter().map(|&q| q as i16).sum()),
        }
    }

    #[test]
    fn quantises_as_llama_cpp_does() {
        let mut seed = 1u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 7.3
        };
        let mut x: Vec<f32> = (0..4 * QK_K).map(|_| next()).collect();
        // Block 1: its largest magnitude twice, negative first; block 2: positive
        // first (the first is -127 either way, the other 127); block 3: zeros; ties
        // (x.5 after scaling) in block 0.
        x[QK_K + 7] = -9.0;
        x[QK_K + 100] = 9.0;
        x[2 * QK_K + 3] = 9.0;
        x[2 * QK_K + 200] = -9.0;
        x[3 * QK_K..].fill(0.0);
        x[0] = 127.0;
        x[1..6].copy_from_slice(&[2.5, -2.5, 0.5, -126.5, 3.5]);
        let mut q = [BlockQ8_K::default(); 4];
        quantize_q8_k(&x, &mut q);
        for (xs, q) in x.chunks(QK_K).zip(&q) {
            assert_eq!(*q, llama_cpp(xs));
        }
        assert_eq!(&q[0].qs[..6], &[-127, -2, 2, 0, 126, -4]);
        assert_eq!((q[1].qs[7], q[1].qs[100]), (-127, 127));
        assert_eq!((q[2].qs[3], q[2].qs[200]), (-127, 127));
        assert_eq!(q[3], BlockQ8_K::default());
    }
}
