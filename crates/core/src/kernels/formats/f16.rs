//! F16 weights (GGML's `GGML_TYPE_F16`) times activations rounded to f16.

use half::f16;
use half::slice::HalfFloatSliceExt;

use super::float::{BlockFloat, Float};
use super::QK;

/// 32 F16 weights.
pub type BlockF16 = BlockFloat<f16>;

impl Float for f16 {
    const NAME: &'static str = "F16";
    const EXACT_PRODUCTS: bool = true;
    const WIDE_EXPONENT: bool = false;
    const PAIRED: bool = false;

    fn from_le(bytes: &[u8]) -> Self {
        f16::from_le_bytes([bytes[0], bytes[1]])
    }

    /// As F16C and ggml's `ggml_compute_fp32_to_fp16` round (above f16's range to
    /// infinity, NaN kept NaN).
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }

    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    /// Through half's slice conversions: eight at a time where the CPU has F16C (the
    /// conversion `from_f32` uses there too), one at a time as `from_f32` elsewhere.
    fn round32(xs: &[f32; QK], out: &mut [f32; QK]) {
        let mut h = [f16::ZERO; QK];
        h.convert_from_f32_slice(xs);
        h.convert_to_f32_slice(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_nearest_even() {
        let ulp = 2f32.powi(-10);
        for (x, want) in [
            (1.0 + ulp / 2.0, 1.0),
            (1.0 + 1.5 * ulp, 1.0 + 2.0 * ulp),
            (1.0 + ulp / 2.0 + ulp / 8.0, 1.0 + ulp),
            (65519.0, 65504.0),
            (65520.0, f32::INFINITY),
            (2f32.powi(-25), 0.0),
            (-3.0 * 2f32.powi(-25), -(2f32.powi(-23))),
        ] {
            assert_eq!(f16::round(x), want, "{x}");
        }
        assert!(f16::round(f32::NAN).is_nan());
    }

    #[test]
    fn a_block_rounds_as_its_values_do() {
        let xs: [f32; QK] = std::array::from_fn(|i| (i as f32 - 15.3) * 1.7f32.powi(i as i32 - 12));
        let mut out = [0f32; QK];
        f16::round32(&xs, &mut out);
        assert_eq!(out.map(f32::to_bits), xs.map(|x| f16::round(x).to_bits()));
    }
}
