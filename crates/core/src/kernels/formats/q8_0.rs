//! Q8_0 weights (GGML's `block_q8_0`: the output and embedding matrix): 8-bit values
//! with a scale.

use super::{block32_arithmetic, f16_to_f32, reference32, Block32, BlockFormat, BlockQ8_1, QK};

/// 32 weights as 8-bit values `q` with `w = d * q` (GGML's `block_q8_0`, 34 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ8_0 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Values in -127..=127.
    pub qs: [i8; QK],
}

/// Bytes of one Q8_0 block in a GGUF file.
pub const Q8_0_BYTES: usize = 34;

impl BlockQ8_0 {
    /// Read a block from its 34 bytes in file order (little-endian f16 d, values).
    /// GGML's quantiser never writes -128; one in a file is read as -127, so that
    /// every kernel (the x86 one takes absolute values of bytes) agrees.
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ8_0 {
            d: u16::from_le_bytes([b[0], b[1]]),
            qs: std::array::from_fn(|i| (b[2 + i] as i8).max(-127)),
        }
    }
}

/// Block `b` of four Q8_0 rows: their scales, their values.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ8_0 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Values, as in [`BlockQ8_0`].
    pub qs: [[i8; QK]; 4],
}

impl BlockFormat for BlockQ8_0 {
    const NAME: &'static str = "Q8_0";
    const BYTES: usize = Q8_0_BYTES;
    const MINIMUMS: bool = false;
    type Activation = BlockQ8_1;
    type Quad = QuadQ8_0;

    fn read(bytes: &[u8]) -> Self {
        BlockQ8_0::from_bytes(bytes)
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

    block32_arithmetic!();
}

impl Block32 for BlockQ8_0 {
    fn scale_and_minimum(&self) -> (f32, f32) {
        (f16_to_f32(self.d), 0.0)
    }

    fn values(&self) -> [i8; QK] {
        self.qs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
