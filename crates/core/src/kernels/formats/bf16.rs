//! BF16 weights (GGML's `GGML_TYPE_BF16`) times activations rounded to bf16.

use half::bf16;

use super::float::{BlockFloat, Float};

/// 32 BF16 weights.
pub type BlockBF16 = BlockFloat<bf16>;

impl Float for bf16 {
    const NAME: &'static str = "BF16";
    const EXACT_PRODUCTS: bool = false;
    const WIDE_EXPONENT: bool = true;
    const PAIRED: bool = true;

    fn from_le(bytes: &[u8]) -> Self {
        bf16::from_le_bytes([bytes[0], bytes[1]])
    }

    /// As ggml's `ggml_compute_fp32_to_bf16`: an f32's high half, rounded to nearest
    /// even by what is below it; NaN made quiet.
    fn from_f32(x: f32) -> Self {
        let u = x.to_bits();
        let high = match u & 0x7FFF_FFFF > 0x7F80_0000 {
            true => (u >> 16) | 0x40,
            false => (u + 0x7FFF + ((u >> 16) & 1)) >> 16,
        };
        bf16::from_bits(high as u16)
    }

    /// The high half of an f32, as it is (a NaN stays the NaN it is).
    fn to_f32(self) -> f32 {
        f32::from_bits((self.to_bits() as u32) << 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_nearest_even_as_half_does() {
        let mut seed = 1u64;
        let samples = (0..100_000).map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 32) as u32
        });
        let edges = [
            0x3F80_8000,
            0x3F81_8000,
            0x7F7F_8000,
            0x7F7F_7FFF,
            0x0000_8000,
        ];
        for bits in samples.chain(edges).chain(edges.map(|b| b | 0x8000_0000)) {
            let x = f32::from_bits(bits);
            let want = bf16::from_f32(x).to_f32();
            match x.is_nan() {
                true => assert!(bf16::round(x).is_nan()),
                false => assert_eq!(bf16::round(x).to_bits(), want.to_bits(), "{bits:#x}"),
            }
        }
        assert_eq!(bf16::round(f32::from_bits(0x3F80_8000)), 1.0);
        assert_eq!(bf16::round(f32::MAX), f32::INFINITY);
    }
}
