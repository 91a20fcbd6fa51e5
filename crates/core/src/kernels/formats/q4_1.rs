//! Q4_1 weights (GGML's `block_q4_1`): 4-bit values with a scale and a minimum.

use super::{
    block32_arithmetic, f16_to_f32, nibbles, reference32, Block32, BlockFormat, BlockQ8_1, QK,
};

/// 32 weights as 4-bit values `q` with `w = d * q + m` (GGML's `block_q4_1`, 20
/// bytes: the scales stay f16 so that a decode step reads as few bytes as possible).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ4_1 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Minimum (f16 bits).
    pub m: u16,
    /// Values 0..16 in the low nibbles, 16..32 in the high ones.
    pub qs: [u8; QK / 2],
}

/// Bytes of one Q4_1 block in a GGUF file.
pub const Q4_1_BYTES: usize = 20;

impl BlockQ4_1 {
    /// Read a block from its 20 bytes in file order (little-endian f16 d, m, nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ4_1 {
            d: u16::from_le_bytes([b[0], b[1]]),
            m: u16::from_le_bytes([b[2], b[3]]),
            qs: b[4..Q4_1_BYTES].try_into().expect("16 bytes"),
        }
    }
}

/// Block `b` of four Q4_1 rows: their scales, their minimums, their nibbles.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ4_1 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Minimums (f16 bits).
    pub m: [u16; 4],
    /// Nibbles, as in [`BlockQ4_1`].
    pub qs: [[u8; QK / 2]; 4],
}

impl BlockFormat for BlockQ4_1 {
    const NAME: &'static str = "Q4_1";
    const BYTES: usize = Q4_1_BYTES;
    const MINIMUMS: bool = true;
    type Activation = BlockQ8_1;
    type Quad = QuadQ4_1;

    fn read(bytes: &[u8]) -> Self {
        BlockQ4_1::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ4_1 {
        QuadQ4_1 {
            d: blocks.map(|b| b.d),
            m: blocks.map(|b| b.m),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ4_1, r: usize) -> Self {
        BlockQ4_1 {
            d: quad.d[r],
            m: quad.m[r],
            qs: quad.qs[r],
        }
    }

    block32_arithmetic!();
}

impl Block32 for BlockQ4_1 {
    fn scale_and_minimum(&self) -> (f32, f32) {
        (f16_to_f32(self.d), f16_to_f32(self.m))
    }

    fn values(&self) -> [i8; QK] {
        nibbles(&self.qs).map(|q| q as i8)
    }
}
