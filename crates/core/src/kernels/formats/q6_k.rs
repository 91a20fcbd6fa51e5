//! Q6_K weights (GGML's `block_q6_K`): super-blocks of 256 6-bit values less 32, in
//! sixteen groups of 16, each with a signed 8-bit scale under the super-block's f16
//! one.

use super::q4_k::{chunks, unchunk};
use super::{f16_to_f32, BlockFormat, BlockQ8_K, QK_K};

/// 256 weights as 6-bit values `u` with `w = d * sc_g * (u - 32)` in group `g` of 16
/// (GGML's `block_q6_K`, 210 bytes). Values `128h + 32k + l` (`l < 32`) have their
/// low four bits in byte `64h + 32(k % 2) + l` of `ql` (the low nibble for `k < 2`)
/// and their top two at bits `2k, 2k + 1` of byte `32h + l` of `qh`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BlockQ6K {
    /// Low four bits.
    pub ql: [u8; QK_K / 2],
    /// Top two bits.
    pub qh: [u8; QK_K / 4],
    /// The groups' scales.
    pub scales: [i8; QK_K / 16],
    /// Super-block scale (f16 bits).
    pub d: u16,
}

impl Default for BlockQ6K {
    fn default() -> Self {
        BlockQ6K {
            ql: [0; QK_K / 2],
            qh: [0; QK_K / 4],
            scales: [0; QK_K / 16],
            d: 0,
        }
    }
}

/// Bytes of one Q6_K block in a GGUF file.
pub const Q6_K_BYTES: usize = 210;

impl BlockQ6K {
    /// Read a block from its 210 bytes in file order (low bits, top bits, scales,
    /// little-endian f16 d last).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ6K {
            ql: b[..128].try_into().expect("128 bytes"),
            qh: b[128..192].try_into().expect("64 bytes"),
            scales: std::array::from_fn(|g| b[192 + g] as i8),
            d: u16::from_le_bytes([b[208], b[209]]),
        }
    }

    /// The 256 unsigned values `u`, `0..64`, in order.
    pub fn values(&self) -> [u8; QK_K] {
        std::array::from_fn(|v| {
            let (h, k, l) = (v / 128, v % 128 / 32, v % 32);
            let low = self.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2)) & 0x0F;
            let top = self.qh[32 * h + l] >> (2 * k) & 3;
            low | top << 4
        })
    }
}

/// Block `b` of four Q6_K rows, laid out for the kernels: their f16 scales together,
/// their group scales by half super-block, and their bits in chunks of 16 bytes, the
/// four rows' chunk `c` side by side (as [`super::QuadQ4K`]'s values).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ6K {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// `scales[h][r]`: row `r`'s scales of groups `8h..8h + 8` (values `128h..128h +
    /// 128`).
    pub scales: [[[i8; 8]; 4]; 2],
    /// `ql[c][r]`: row `r`'s bytes `16c..16c + 16` of [`BlockQ6K::ql`].
    pub ql: [[[u8; 16]; 4]; 8],
    /// `qh[c][r]`: row `r`'s bytes `16c..16c + 16` of [`BlockQ6K::qh`].
    pub qh: [[[u8; 16]; 4]; 4],
}

impl BlockFormat for BlockQ6K {
    const NAME: &'static str = "Q6_K";
    const BYTES: usize = Q6_K_BYTES;
    const MINIMUMS: bool = false;
    const OFFSET: i8 = 32;
    const HALVES: &'static [usize] = &[208];
    type Activation = BlockQ8_K;
    type Quad = QuadQ6K;

    fn read(bytes: &[u8]) -> Self {
        BlockQ6K::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ6K {
        QuadQ6K {
            d: blocks.map(|b| b.d),
            scales: std::array::from_fn(|h| {
                blocks.map(|b| b.scales[8 * h..][..8].try_into().unwrap())
            }),
            ql: chunks(blocks.map(|b| b.ql)),
            qh: chunks(blocks.map(|b| b.qh)),
        }
    }

    fn block(quad: &QuadQ6K, r: usize) -> Self {
        BlockQ6K {
            ql: unchunk(&quad.ql, r),
            qh: unchunk(&quad.qh, r),
            scales: std::array::from_fn(|g| quad.scales[g / 8][r][g % 8]),
            d: quad.d[r],
        }
    }

    /// As llama.cpp and candle dequantise them: `(d * sc) * (u - 32)`.
    fn dequantize_into(&self, out: &mut [f32]) {
        let d = f16_to_f32(self.d);
        for ((w, u), v) in out.iter_mut().zip(self.values()).zip(0..) {
            *w = d * self.scales[v / 16] as f32 * (u as i32 - 32) as f32;
        }
    }

    /// Per super-block, `isum = Σ_g sc_g * (Σ u * y - 32 * bsum_g)`, exact in i32, and
    /// `acc += (d_x * d_y) * isum`; the result is `acc` (llama.cpp's generic loop with
    /// one float sum where it keeps eight).
    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_K]) -> f32 {
        let mut acc = 0f32;
        for (x, y) in xs.into_iter().zip(ys) {
            let u = x.values();
            let mut isum = 0i32;
            for g in 0..16 {
                let q = u[16 * g..][..16].iter();
                let sum: i32 = q
                    .zip(&y.qs[16 * g..])
                    .map(|(&u, &v)| u as i32 * v as i32)
                    .sum();
                isum += x.scales[g] as i32 * (sum - 32 * y.bsums[g] as i32);
            }
            acc += (f16_to_f32(x.d) * y.d) * isum as f32;
        }
        acc
    }
}
