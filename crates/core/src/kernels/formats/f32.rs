//! F32 weights (GGML's `GGML_TYPE_F32`) times activations as they are.

use super::float::{BlockFloat, Float};

/// 32 F32 weights.
pub type BlockF32 = BlockFloat<f32>;

impl Float for f32 {
    const NAME: &'static str = "F32";
    const EXACT_PRODUCTS: bool = false;
    const WIDE_EXPONENT: bool = true;
    const PAIRED: bool = false;

    fn from_le(bytes: &[u8]) -> Self {
        f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// As it is.
    fn from_f32(x: f32) -> Self {
        x
    }

    fn to_f32(self) -> f32 {
        self
    }
}
