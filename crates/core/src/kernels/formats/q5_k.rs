//! Q5_K weights (GGML's `block_q5_K`): Q4_K with a fifth bit per value.

use super::q4_k::{chunks, pack_scales, reference_with_minimums, unchunk, unpack_scales, Unpacked};
use super::{BlockFormat, BlockQ8_K, QK_K};

/// 256 weights as 5-bit values `q` with `w = d * sc_s * q - dmin * m_s` in sub-block
/// `s` (GGML's `block_q5_K`, 176 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BlockQ5K {
    /// Super-block scale (f16 bits).
    pub d: u16,
    /// Super-block scale of the minimums (f16 bits).
    pub dmin: u16,
    /// The sub-blocks' 6-bit scales and minimums, packed as GGML packs them.
    pub scales: [u8; 12],
    /// Fifth bits: bit `s` of byte `l` is value `32s + l`'s.
    pub qh: [u8; QK_K / 8],
    /// Low four bits, as [`super::BlockQ4K::qs`].
    pub qs: [u8; QK_K / 2],
}

impl Default for BlockQ5K {
    fn default() -> Self {
        BlockQ5K {
            d: 0,
            dmin: 0,
            scales: [0; 12],
            qh: [0; QK_K / 8],
            qs: [0; QK_K / 2],
        }
    }
}

/// Bytes of one Q5_K block in a GGUF file.
pub const Q5_K_BYTES: usize = 176;

impl BlockQ5K {
    /// Read a block from its 176 bytes in file order (little-endian f16 d and dmin,
    /// packed scales, fifth bits, nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ5K {
            d: u16::from_le_bytes([b[0], b[1]]),
            dmin: u16::from_le_bytes([b[2], b[3]]),
            scales: b[4..16].try_into().expect("12 bytes"),
            qh: b[16..48].try_into().expect("32 bytes"),
            qs: b[48..Q5_K_BYTES].try_into().expect("128 bytes"),
        }
    }

    /// The 256 values `0..32` in order.
    pub fn values(&self) -> [u8; QK_K] {
        std::array::from_fn(|v| {
            let byte = self.qs[v / 64 * 32 + v % 32];
            let low = match v % 64 < 32 {
                true => byte & 0x0F,
                false => byte >> 4,
            };
            low | ((self.qh[v % 32] >> (v / 32)) & 1) << 4
        })
    }
}

/// Block `b` of four Q5_K rows: as [`super::QuadQ4K`], with the fifth bits in chunks
/// of 16 bytes too.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ5K {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Scales of the minimums (f16 bits).
    pub dmin: [u16; 4],
    /// Row `r`'s sub-block scales, `0..64`.
    pub scales: [[u8; 8]; 4],
    /// Row `r`'s sub-block minimums, `0..64`.
    pub mins: [[u8; 8]; 4],
    /// `qh[p][r]`: row `r`'s bytes `16p..16p + 16` of [`BlockQ5K::qh`] (the fifth
    /// bits of values `32s + 16p + i` at bit `s` of byte `i`).
    pub qh: [[[u8; 16]; 4]; 2],
    /// `qs[c][r]`: row `r`'s bytes `16c..16c + 16` of [`BlockQ5K::qs`].
    pub qs: [[[u8; 16]; 4]; 8],
}

impl BlockFormat for BlockQ5K {
    const NAME: &'static str = "Q5_K";
    const BYTES: usize = Q5_K_BYTES;
    const MINIMUMS: bool = true;
    type Activation = BlockQ8_K;
    type Quad = QuadQ5K;

    fn read(bytes: &[u8]) -> Self {
        BlockQ5K::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ5K {
        let unpacked = blocks.map(|b| unpack_scales(&b.scales));
        QuadQ5K {
            d: blocks.map(|b| b.d),
            dmin: blocks.map(|b| b.dmin),
            scales: unpacked.map(|(scales, _)| scales),
            mins: unpacked.map(|(_, mins)| mins),
            qh: chunks(blocks.map(|b| b.qh)),
            qs: chunks(blocks.map(|b| b.qs)),
        }
    }

    fn block(quad: &QuadQ5K, r: usize) -> Self {
        BlockQ5K {
            d: quad.d[r],
            dmin: quad.dmin[r],
            scales: pack_scales(&quad.scales[r], &quad.mins[r]),
            qh: unchunk(&quad.qh, r),
            qs: unchunk(&quad.qs, r),
        }
    }

    fn dequantize_into(&self, out: &mut [f32]) {
        Unpacked::of(self.d, self.dmin, &self.scales, self.values()).dequantize_into(out)
    }

    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_K]) -> f32 {
        let xs = xs.into_iter();
        reference_with_minimums(
            xs.map(|x| Unpacked::of(x.d, x.dmin, &x.scales, x.values())),
            ys,
        )
    }
}
