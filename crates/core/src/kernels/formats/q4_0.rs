//! Q4_0 weights (GGML's `block_q4_0`): 4-bit values less 8, with a scale.

use super::{
    block32_arithmetic, f16_to_f32, nibbles, reference32, Block32, BlockFormat, BlockQ8_1, QK,
};

/// 32 weights as 4-bit values `n` with `w = d * (n - 8)` (GGML's `block_q4_0`, 18
/// bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ4_0 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Values 0..16 in the low nibbles, 16..32 in the high ones.
    pub qs: [u8; QK / 2],
}

/// Bytes of one Q4_0 block in a GGUF file.
pub const Q4_0_BYTES: usize = 18;

impl BlockQ4_0 {
    /// Read a block from its 18 bytes in file order (little-endian f16 d, nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ4_0 {
            d: u16::from_le_bytes([b[0], b[1]]),
            qs: b[2..Q4_0_BYTES].try_into().expect("16 bytes"),
        }
    }
}

/// Block `b` of four Q4_0 rows: their scales, their nibbles.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ4_0 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Nibbles, as in [`BlockQ4_0`].
    pub qs: [[u8; QK / 2]; 4],
}

impl BlockFormat for BlockQ4_0 {
    const NAME: &'static str = "Q4_0";
    const BYTES: usize = Q4_0_BYTES;
    const MINIMUMS: bool = false;
    const OFFSET: i8 = 8;
    type Activation = BlockQ8_1;
    type Quad = QuadQ4_0;

    fn read(bytes: &[u8]) -> Self {
        BlockQ4_0::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ4_0 {
        QuadQ4_0 {
            d: blocks.map(|b| b.d),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ4_0, r: usize) -> Self {
        BlockQ4_0 {
            d: quad.d[r],
            qs: quad.qs[r],
        }
    }

    block32_arithmetic!();
}

impl Block32 for BlockQ4_0 {
    fn scale_and_minimum(&self) -> (f32, f32) {
        (f16_to_f32(self.d), 0.0)
    }

    fn values(&self) -> [i8; QK] {
        nibbles(&self.qs).map(|n| n as i8 - 8)
    }
}
