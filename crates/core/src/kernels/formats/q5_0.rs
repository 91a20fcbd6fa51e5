//! Q5_0 weights (GGML's `block_q5_0`): 5-bit values less 16, with a scale.

use super::{
    block32_arithmetic, f16_to_f32, five_bits, reference32, spread, unspread, Block32, BlockFormat,
    BlockQ8_1, QK,
};

/// 32 weights as 5-bit values `n` with `w = d * (n - 16)` (GGML's `block_q5_0`, 22
/// bytes): the low four bits as nibbles, the fifth bits in a word of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ5_0 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Bit `j`: value `j`'s fifth bit.
    pub qh: u32,
    /// Low four bits: values 0..16 in the low nibbles, 16..32 in the high ones.
    pub qs: [u8; QK / 2],
}

/// Bytes of one Q5_0 block in a GGUF file.
pub const Q5_0_BYTES: usize = 22;

impl BlockQ5_0 {
    /// Read a block from its 22 bytes in file order (little-endian f16 d, 32-bit qh,
    /// nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ5_0 {
            d: u16::from_le_bytes([b[0], b[1]]),
            qh: u32::from_le_bytes([b[2], b[3], b[4], b[5]]),
            qs: b[6..Q5_0_BYTES].try_into().expect("16 bytes"),
        }
    }
}

/// Block `b` of four Q5_0 rows: their scales, their fifth bits ([`spread`]), their
/// nibbles.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ5_0 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Fifth bits, spread.
    pub qh: [u32; 4],
    /// Nibbles, as in [`BlockQ5_0`].
    pub qs: [[u8; QK / 2]; 4],
}

impl BlockFormat for BlockQ5_0 {
    const NAME: &'static str = "Q5_0";
    const BYTES: usize = Q5_0_BYTES;
    const MINIMUMS: bool = false;
    const OFFSET: i8 = 16;
    type Activation = BlockQ8_1;
    type Quad = QuadQ5_0;

    fn read(bytes: &[u8]) -> Self {
        BlockQ5_0::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ5_0 {
        QuadQ5_0 {
            d: blocks.map(|b| b.d),
            qh: blocks.map(|b| spread(b.qh)),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ5_0, r: usize) -> Self {
        BlockQ5_0 {
            d: quad.d[r],
            qh: unspread(quad.qh[r]),
            qs: quad.qs[r],
        }
    }

    block32_arithmetic!();
}

impl Block32 for BlockQ5_0 {
    fn scale_and_minimum(&self) -> (f32, f32) {
        (f16_to_f32(self.d), 0.0)
    }

    fn values(&self) -> [i8; QK] {
        five_bits(&self.qs, self.qh).map(|n| n as i8 - 16)
    }
}
