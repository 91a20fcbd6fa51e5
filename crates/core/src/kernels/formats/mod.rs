//! The block formats, plain Rust with no instruction set of their own: Q4_1 and Q8_0
//! weights, Q8_1 activations, the trait the weight formats share, and the reference
//! arithmetic every kernel reproduces.

mod q4_1;
mod q8_0;
mod q8_1;

pub use q4_1::{BlockQ4_1, QuadQ4_1};
pub use q8_0::{BlockQ8_0, QuadQ8_0};
pub use q8_1::{quantize_q8_1_reference, quantize_with, BlockQ8_1};

/// Values per block.
pub const QK: usize = 32;

/// A weight block format: how it is read and laid out, and the reference product of
/// its rows with Q8_1 activation rows, the arithmetic every kernel gives bit for bit.
/// Matrices keep their rows in fours: block `b` of four rows
/// side by side (a [`WeightBlock::Quad`]), their scales together, so that a kernel
/// converts and multiplies the four rows' scales in one step.
pub trait BlockFormat: Copy + Default + Send + Sync {
    /// The GGUF type's name, for errors.
    const NAME: &'static str;
    /// Bytes of one block in a GGUF file.
    const BYTES: usize;
    /// Whether blocks have a minimum (`m_x * s_y` is added per block), as Q4_1's do.
    const MINIMUMS: bool;
    /// Block `b` of four rows, laid out for the kernels.
    type Quad: Copy + Send + Sync;
    /// Read a block from its bytes in file order.
    fn read(bytes: &[u8]) -> Self;
    /// The 32 weights as f32 (as candle and llama.cpp dequantise them).
    fn dequantize(&self) -> [f32; QK];
    /// Four rows' blocks as one quad.
    fn quad(blocks: [Self; 4]) -> Self::Quad;
    /// Row `r`'s block of a quad.
    fn block(quad: &Self::Quad, r: usize) -> Self;
    /// The reference dot product of a row and an activation row: plain Rust, the
    /// arithmetic every kernel gives bit for bit.
    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_1]) -> f32;
    /// Four equally long rows as quads.
    fn quads(rows: [&[Self]; 4]) -> Vec<Self::Quad> {
        (0..rows[0].len())
            .map(|b| Self::quad(rows.map(|row| row[b])))
            .collect()
    }
}

/// Exact f16 → f32 for finite values (zero and subnormals included) in four integer
/// and float operations: the bits move into place and a multiply by 2^112 fixes the
/// exponent bias. Every kernel uses it, so all convert alike.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(((h & 0x7FFF) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (((h & 0x8000) as u32) << 16))
}
