//! Q4_K weights (GGML's `block_q4_K`): super-blocks of 256 4-bit values in eight
//! sub-blocks of 32, each with a 6-bit scale and minimum under the super-block's f16
//! ones; and what Q4_K and Q5_K share: their packed scales, their reference and their
//! weights.

use super::{f16_to_f32, BlockFormat, BlockQ8_K, QK_K};

/// 256 weights as 4-bit values `q` with `w = d * sc_s * q - dmin * m_s` in sub-block
/// `s` (GGML's `block_q4_K`, 144 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BlockQ4K {
    /// Super-block scale (f16 bits).
    pub d: u16,
    /// Super-block scale of the minimums (f16 bits).
    pub dmin: u16,
    /// The sub-blocks' 6-bit scales and minimums, packed as GGML packs them.
    pub scales: [u8; 12],
    /// Values: byte `32j + l` holds value `64j + l` in its low nibble and `64j + 32 +
    /// l` in its high one.
    pub qs: [u8; QK_K / 2],
}

impl Default for BlockQ4K {
    fn default() -> Self {
        BlockQ4K {
            d: 0,
            dmin: 0,
            scales: [0; 12],
            qs: [0; QK_K / 2],
        }
    }
}

/// Bytes of one Q4_K block in a GGUF file.
pub const Q4_K_BYTES: usize = 144;

impl BlockQ4K {
    /// Read a block from its 144 bytes in file order (little-endian f16 d and dmin,
    /// packed scales, nibbles).
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ4K {
            d: u16::from_le_bytes([b[0], b[1]]),
            dmin: u16::from_le_bytes([b[2], b[3]]),
            scales: b[4..16].try_into().expect("12 bytes"),
            qs: b[16..Q4_K_BYTES].try_into().expect("128 bytes"),
        }
    }

    /// The 256 values `0..16` in order.
    pub fn values(&self) -> [u8; QK_K] {
        std::array::from_fn(|v| {
            let byte = self.qs[v / 64 * 32 + v % 32];
            match v % 64 < 32 {
                true => byte & 0x0F,
                false => byte >> 4,
            }
        })
    }
}

/// Block `b` of four Q4_K rows, laid out for the kernels: their f16 scales together,
/// their sub-block scales and minimums unpacked, and their values in chunks of 16
/// bytes, the four rows' chunk `c` side by side (64 bytes: a 512-bit load holds a row
/// per 128-bit lane, a 256-bit one two rows).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ4K {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Scales of the minimums (f16 bits).
    pub dmin: [u16; 4],
    /// Row `r`'s sub-block scales, `0..64`.
    pub scales: [[u8; 8]; 4],
    /// Row `r`'s sub-block minimums, `0..64`.
    pub mins: [[u8; 8]; 4],
    /// `qs[c][r]`: row `r`'s bytes `16c..16c + 16` of [`BlockQ4K::qs`] (values
    /// `64(c / 2) + 16(c % 2) + i` in the low nibbles, 32 more in the high ones).
    pub qs: [[[u8; 16]; 4]; 8],
}

impl BlockFormat for BlockQ4K {
    const NAME: &'static str = "Q4_K";
    const BYTES: usize = Q4_K_BYTES;
    const MINIMUMS: bool = true;
    type Activation = BlockQ8_K;
    type Quad = QuadQ4K;

    fn read(bytes: &[u8]) -> Self {
        BlockQ4K::from_bytes(bytes)
    }

    fn quad(blocks: [Self; 4]) -> QuadQ4K {
        let unpacked = blocks.map(|b| unpack_scales(&b.scales));
        QuadQ4K {
            d: blocks.map(|b| b.d),
            dmin: blocks.map(|b| b.dmin),
            scales: unpacked.map(|(scales, _)| scales),
            mins: unpacked.map(|(_, mins)| mins),
            qs: chunks(blocks.map(|b| b.qs)),
        }
    }

    fn block(quad: &QuadQ4K, r: usize) -> Self {
        BlockQ4K {
            d: quad.d[r],
            dmin: quad.dmin[r],
            scales: pack_scales(&quad.scales[r], &quad.mins[r]),
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

/// Four rows' `N`-chunk byte arrays (`16N` bytes each) as quads keep them: chunk `c`
/// of the four rows side by side.
pub fn chunks<const B: usize, const N: usize>(rows: [[u8; B]; 4]) -> [[[u8; 16]; 4]; N] {
    debug_assert_eq!(B, 16 * N);
    std::array::from_fn(|c| std::array::from_fn(|r| rows[r][16 * c..][..16].try_into().unwrap()))
}

/// Row `r`'s bytes from [`chunks`].
pub fn unchunk<const B: usize, const N: usize>(chunks: &[[[u8; 16]; 4]; N], r: usize) -> [u8; B] {
    std::array::from_fn(|i| chunks[i / 16][r][i % 16])
}

/// The eight sub-block scales and minimums (6 bits each) from GGML's 12 packed bytes
/// (`get_scale_min_k4`): for `j < 4`, the low six bits of bytes `j` and `4 + j`; for
/// `j >= 4`, the nibbles of byte `4 + j` with the top two bits of bytes `j - 4` and
/// `j` above them.
pub fn unpack_scales(packed: &[u8; 12]) -> ([u8; 8], [u8; 8]) {
    let scales = std::array::from_fn(|j| match j < 4 {
        true => packed[j] & 63,
        false => (packed[j + 4] & 0x0F) | (packed[j - 4] >> 6) << 4,
    });
    let mins = std::array::from_fn(|j| match j < 4 {
        true => packed[j + 4] & 63,
        false => (packed[j + 4] >> 4) | (packed[j] >> 6) << 4,
    });
    (scales, mins)
}

/// GGML's 12 packed bytes from [`unpack_scales`]' (the packing is one to one).
pub fn pack_scales(scales: &[u8; 8], mins: &[u8; 8]) -> [u8; 12] {
    std::array::from_fn(|i| match i {
        0..4 => scales[i] | (scales[i + 4] >> 4) << 6,
        4..8 => mins[i - 4] | (mins[i] >> 4) << 6,
        _ => (scales[i - 4] & 0x0F) | (mins[i - 4] & 0x0F) << 4,
    })
}

/// A Q4_K or Q5_K super-block as its reference reads it: scales as f32, sub-block
/// scales and minimums, and the 256 unsigned values in order.
pub struct Unpacked {
    d: f32,
    dmin: f32,
    scales: [u8; 8],
    mins: [u8; 8],
    values: [u8; QK_K],
}

impl Unpacked {
    /// From a block's f16 scales, packed sub-block scales and values.
    pub fn of(d: u16, dmin: u16, packed: &[u8; 12], values: [u8; QK_K]) -> Self {
        let (scales, mins) = unpack_scales(packed);
        Unpacked {
            d: f16_to_f32(d),
            dmin: f16_to_f32(dmin),
            scales,
            mins,
            values,
        }
    }

    /// The weights as llama.cpp and candle dequantise them: `(d * sc) * q - dmin * m`.
    pub fn dequantize_into(&self, out: &mut [f32]) {
        for (s, out) in out.chunks_exact_mut(32).enumerate() {
            let d = self.d * self.scales[s] as f32;
            let m = self.dmin * self.mins[s] as f32;
            for (w, &q) in out.iter_mut().zip(&self.values[32 * s..]) {
                *w = d * q as f32 - m;
            }
        }
    }
}

/// The reference product of a Q4_K or Q5_K row and an activation row, per
/// super-block: `isum = Σ_s sc_s * Σ q * y` and `msum = Σ_s m_s * (bsum_2s +
/// bsum_2s+1)`, exact in i32; `acc += (d_x * d_y) * isum` and `summs += (dmin_x *
/// d_y) * msum`; the result is `acc - summs` (llama.cpp's generic loop with one float
/// sum where it keeps eight).
pub fn reference_with_minimums(xs: impl Iterator<Item = Unpacked>, ys: &[BlockQ8_K]) -> f32 {
    let (mut acc, mut summs) = (0f32, 0f32);
    for (x, y) in xs.zip(ys) {
        let (mut isum, mut msum) = (0i32, 0i32);
        for s in 0..8 {
            let q = x.values[32 * s..][..32].iter();
            let sum: i32 = q
                .zip(&y.qs[32 * s..])
                .map(|(&q, &v)| q as i32 * v as i32)
                .sum();
            isum += x.scales[s] as i32 * sum;
            msum += x.mins[s] as i32 * (y.bsums[2 * s] as i32 + y.bsums[2 * s + 1] as i32);
        }
        acc += (x.d * y.d) * isum as f32;
        summs += (x.dmin * y.d) * msum as f32;
    }
    acc - summs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_pack_back_as_they_were() {
        let mut seed = 3u64;
        for _ in 0..1000 {
            let packed: [u8; 12] = std::array::from_fn(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            });
            let (scales, mins) = unpack_scales(&packed);
            assert!(scales.iter().chain(&mins).all(|&v| v < 64));
            assert_eq!(pack_scales(&scales, &mins), packed);
        }
    }
}
