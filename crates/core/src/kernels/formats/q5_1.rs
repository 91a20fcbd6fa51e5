//! Q5_1 weights (GGML's `block_q5_1`): 5-bit values with a scale and a minimum.

use super::{
    block32_arithmetic, f16_to_f32, five_bits, reference32, spread, unspread, Block32, BlockFormat,
    BlockQ8_1, QK,
};

/// 32 weights as 5-bit values `q` with `w = d * q + m` (GGML's `block_q5_1`, 24
/// bytes): the low four bits as nibbles, the fifth bits in a word of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ5_1 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Minimum (f16 bits).
    pub m: u16,
    /// Bit `j`: value `j`'s fifth bit.
    pub qh: u32,
    /// Low four bits: values 0..16 in the low nibbles, 16..32 in the high ones.
    pub qs: [u8; QK / 2],
}

/// Bytes of one Q5_1 block in a GGUF file.
pub const Q5_1_BYTES: usize = 24;

impl BlockQ5_1 {
    /// Read a block from its 24 bytes in file order (little-endian f16 d, m, 32-bit
    /// qh, nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ5_1 {
            d: u16::from_le_bytes([b[0], b[1]]),
            m: u16::from_le_bytes([b[2], b[3]]),
            qh: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            qs: b[8..Q5_1_BYTES].try_into().expect("16 bytes"),
        }
    }
}

/// Block `b` of four Q5_1 rows: their scales, their minimums, their fifth bits
/// ([`spread`]), their nibbles.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ5_1 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Minimums (f16 bits).
    pub m: [u16; 4],
    /// Fifth bits, spread.
    pub qh: [u32; 4],
    /// Nibbles, as in [`BlockQ5_1`].
    pub qs: [[u8; QK / 2]; 4],
}

impl BlockFormat for BlockQ5_1 {
    const NAME: &'static str = "Q5_1";
    const BYTES: usize = Q5_1_BYTES;
    const MINIMUMS: bool = true;
    type Activation = BlockQ8_1;
    type Quad = QuadQ5_1;

    fn read(bytes: &[u8]) -> Self {
        BlockQ5_1::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ5_1 {
        QuadQ5_1 {
            d: blocks.map(|b| b.d),
            m: blocks.map(|b| b.m),
            qh: blocks.map(|b| spread(b.qh)),
            qs: blocks.map(|b| b.qs),
        }
    }

    fn block(quad: &QuadQ5_1, r: usize) -> Self {
        BlockQ5_1 {
            d: quad.d[r],
            m: quad.m[r],
            qh: unspread(quad.qh[r]),
            qs: quad.qs[r],
        }
    }

    block32_arithmetic!();
}

impl Block32 for BlockQ5_1 {
    fn scale_and_minimum(&self) -> (f32, f32) {
        (f16_to_f32(self.d), f16_to_f32(self.m))
    }

    fn values(&self) -> [i8; QK] {
        five_bits(&self.qs, self.qh).map(|q| q as i8)
    }
}
