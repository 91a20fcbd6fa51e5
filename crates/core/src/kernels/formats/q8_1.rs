//! Q8_1 activations (GGML's `block_q8_1`): 32 values as bytes with a scale and its
//! sum, and the reference quantiser.

use half::f16;

use super::{ActivationBlock, QK};

/// 32 activations as `x ≈ d * q` with `s = d * sum(q)` (GGML's `block_q8_1`); the
/// scales are kept as the f32 values of their f16 roundings, and `sum(q)` too.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct BlockQ8_1 {
    /// The values.
    pub qs: [i8; QK],
    /// Scale.
    pub d: f32,
    /// Scale times the sum of the values.
    pub s: f32,
    /// The sum of the values (for kernels that multiply signed weights unsigned, 128
    /// above, and take 128 times it off).
    pub sum: i32,
}

impl Default for BlockQ8_1 {
    fn default() -> Self {
        BlockQ8_1 {
            qs: [0; QK],
            d: 0.0,
            s: 0.0,
            sum: 0,
        }
    }
}

impl ActivationBlock for BlockQ8_1 {
    const VALUES: usize = QK;

    fn quantize_reference(x: &[f32], out: &mut [Self]) {
        quantize_q8_1_reference(x, out)
    }
}

/// Quantise `x` (a multiple of 32 long) into `out`, as llama.cpp's x86 SIMD path
/// does: `d = max|x| / 127`, `q = round_half_even(x * 127 / max|x|)`,
/// `s = f16(d * sum q)`, in plain Rust. The kernels' quantisers give the same.
pub fn quantize_q8_1_reference(x: &[f32], out: &mut [BlockQ8_1]) {
    quantize_with(x, out, round_block)
}

/// Each 32 values of `x` into a block of `out`, their values rounded by `round`
/// (which gives the block's `max|x|` and the sum of its values).
#[inline(always)]
pub fn quantize_with(
    x: &[f32],
    out: &mut [BlockQ8_1],
    round: impl Fn(&[f32; QK], &mut [i8; QK]) -> (f32, i32),
) {
    debug_assert_eq!(x.len(), out.len() * QK);
    for (xs, block) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xs = xs.try_into().expect("chunks of 32");
        let (max, sum) = round(xs, &mut block.qs);
        let d = max / 127.0;
        block.d = f16::from_f32(d).to_f32();
        block.s = f16::from_f32(d * sum as f32).to_f32();
        block.sum = sum;
    }
}

/// `max|x|` of 32 values, the values as `round_half_even(x * 127 / max|x|)` into
/// `qs`, and their sum.
fn round_block(xs: &[f32; QK], qs: &mut [i8; QK]) -> (f32, i32) {
    let max = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let id = if max != 0.0 { 127.0 / max } else { 0.0 };
    let mut sum = 0i32;
    for (q, &v) in qs.iter_mut().zip(xs) {
        *q = round_ties_even(v * id) as i8;
        sum += *q as i32;
    }
    (max, sum)
}

/// Round half to even for |v| < 2^22 (here |v| <= 127): adding and taking away
/// 1.5 * 2^23 leaves the float rounded by the FPU, with no libm call.
#[inline(always)]
pub fn round_ties_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

#[cfg(test)]
mod tests {
    use super::super::f16_to_f32;
    use super::*;

    #[test]
    fn f16_conversion_and_rounding_are_exact() {
        for h in (0..=u16::MAX).filter(|h| h & 0x7C00 != 0x7C00) {
            assert_eq!(
                f16_to_f32(h).to_bits(),
                f16::from_bits(h).to_f32().to_bits(),
                "{h:#x}"
            );
        }
        for i in -1270..=1270 {
            let v = i as f32 / 10.0 + 0.05;
            assert_eq!(round_ties_even(v), v.round_ties_even(), "{v}");
        }
        for v in [0.5f32, 1.5, 2.5, -0.5, -1.5, 126.5, -127.0] {
            assert_eq!(round_ties_even(v), v.round_ties_even());
        }
    }
}
