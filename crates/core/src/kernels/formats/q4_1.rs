//! Q4_1 weights (GGML's `block_q4_1`) and their reference dot product with a Q8_1
//! row, with the float arithmetic of
//! llama.cpp's reference (`ggml_vec_dot_q4_1_q8_1`'s generic loop): per block, the
//! exact integer sum of the 32 products is scaled by `d_x * d_y` and `m_x * s_y` is
//! added, then the block's value is added to the row's sum. Every implementation does
//! exactly these float operations (multiply and add, never fused), so all agree bit
//! for bit.

use super::{f16_to_f32, BlockFormat, BlockQ8_1, QK};

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
        let mut qs = [0; QK / 2];
        qs.copy_from_slice(&b[4..Q4_1_BYTES]);
        BlockQ4_1 {
            d: u16::from_le_bytes([b[0], b[1]]),
            m: u16::from_le_bytes([b[2], b[3]]),
            qs,
        }
    }

    /// The scale and the minimum as f32.
    #[inline(always)]
    pub fn scales(&self) -> (f32, f32) {
        (f16_to_f32(self.d), f16_to_f32(self.m))
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
    type Quad = QuadQ4_1;

    fn read(bytes: &[u8]) -> Self {
        BlockQ4_1::from_bytes(bytes)
    }

    fn dequantize(&self) -> [f32; QK] {
        let (d, m) = self.scales();
        std::array::from_fn(|j| {
            let q = if j < QK / 2 {
                self.qs[j] & 0x0F
            } else {
                self.qs[j - QK / 2] >> 4
            };
            q as f32 * d + m
        })
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

    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_1]) -> f32 {
        let (mut acc, mut summs) = (0f32, 0f32);
        for (x, y) in xs.into_iter().zip(ys) {
            let (xd, xm) = x.scales();
            let sum: i32 = (0..QK)
                .map(|j| {
                    let q = if j < QK / 2 {
                        x.qs[j] & 0x0F
                    } else {
                        x.qs[j - QK / 2] >> 4
                    };
                    q as i32 * y.qs[j] as i32
                })
                .sum();
            acc += (xd * y.d) * sum as f32;
            summs += xm * y.s;
        }
        acc + summs
    }
}
