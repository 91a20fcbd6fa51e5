//! The block formats, plain Rust with no instruction set of their own: the 32-value
//! weight formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 with their Q8_1 activations, the
//! 256-value K-quants Q4_K, Q5_K and Q6_K with their Q8_K activations, the float
//! formats F16, BF16 and F32 with activations rounded to their type, the traits the
//! formats share, and the reference arithmetic every kernel reproduces.

mod bf16;
mod f16;
mod f32;
mod float;
mod q4_0;
mod q4_1;
mod q4_k;
mod q5_0;
mod q5_1;
mod q5_k;
mod q6_k;
mod q8_0;
mod q8_1;
mod q8_k;

pub use bf16::BlockBF16;
pub use f16::BlockF16;
pub use f32::BlockF32;
pub use float::{round_into, BlockFloat, Float, QuadFloat, Rounded};
pub use q4_0::{BlockQ4_0, QuadQ4_0};
pub use q4_1::{BlockQ4_1, QuadQ4_1};
pub use q4_k::{BlockQ4K, QuadQ4K};
pub use q5_0::{BlockQ5_0, QuadQ5_0};
pub use q5_1::{BlockQ5_1, QuadQ5_1};
pub use q5_k::{BlockQ5K, QuadQ5K};
pub use q6_k::{BlockQ6K, QuadQ6K};
pub use q8_0::{BlockQ8_0, QuadQ8_0};
/// The quantiser loop the SIMD quantisers share (the targets without have only the
/// reference).
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
pub use q8_1::quantize_with;
pub use q8_1::{quantize_q8_1_reference, BlockQ8_1};
pub use q8_k::{quantize_q8_k, BlockQ8_K};

/// Values per block of the 32-value formats (and of Q8_1).
pub const QK: usize = 32;

/// Values per super-block of the K-quants (and of Q8_K).
pub const QK_K: usize = 256;

/// An activation block format: Q8_1 (32 values), Q8_K (256) or 32 values rounded to
/// a float format's type, what a weight format's products take activation rows as.
pub trait ActivationBlock: Copy + Default + PartialEq + std::fmt::Debug + Send + Sync {
    /// Values per block.
    const VALUES: usize;
    /// Quantise `x` (a multiple of [`ActivationBlock::VALUES`] long) into `out` with
    /// the reference arithmetic, in plain Rust.
    fn quantize_reference(x: &[f32], out: &mut [Self]);
}

/// A weight block format: how it is read and laid out, and the reference product of
/// its rows with activation rows ([`BlockFormat::Activation`]), the arithmetic every
/// kernel gives bit for bit: for the quantised formats, exact integer sums per block,
/// then the float steps of the format's reference in its order, multiplies and adds,
/// never fused; for the float formats, the products summed in one fixed order.
///
/// Matrices keep their rows in fours: block `b` of four rows side by side (a
/// [`BlockFormat::Quad`]), their scales together, so that a kernel converts and
/// multiplies the four rows' scales in one step.
pub trait BlockFormat: Copy + Default + Send + Sync {
    /// The GGUF type's name, for errors.
    const NAME: &'static str;
    /// Bytes of one block in a GGUF file.
    const BYTES: usize;
    /// Whether blocks have minimums (`w = d * q + m`, or `- m` for the K-quants), as
    /// Q4_1's and Q4_K's do.
    const MINIMUMS: bool;
    /// What the kernels add to each value to multiply it unsigned (8 for Q4_0, 16 for
    /// Q5_0, 32 for Q6_K, 0 for the others), taking `OFFSET * Σy` off the sum: exact.
    const OFFSET: i8 = 0;
    /// Where the block's 16-bit floats lie among its bytes in file order (for tests,
    /// which keep them finite or small): its f16 scale (and minimum), bytes 0 and 2 by
    /// default; a float format's values (an f32's high half).
    const HALVES: &'static [usize] = if Self::MINIMUMS { &[0, 2] } else { &[0] };
    /// Whether [`BlockFormat::HALVES`] are bf16 (with f32's 8-bit exponent, as an
    /// f32's high half is), not f16.
    const BF16_HALVES: bool = false;
    /// The activation blocks its rows are multiplied with.
    type Activation: ActivationBlock;
    /// Values per block: its activation block's.
    const VALUES: usize = <Self::Activation as ActivationBlock>::VALUES;
    /// Block `b` of four rows, laid out for the kernels.
    type Quad: Copy + Send + Sync;
    /// Read a block from its bytes in file order.
    fn read(bytes: &[u8]) -> Self;
    /// Four rows' blocks as one quad.
    fn quad(blocks: [Self; 4]) -> Self::Quad;
    /// Row `r`'s block of a quad.
    fn block(quad: &Self::Quad, r: usize) -> Self;
    /// The block's [`BlockFormat::VALUES`] weights as f32 into `out` (as candle and
    /// llama.cpp dequantise them).
    fn dequantize_into(&self, out: &mut [f32]);
    /// The reference dot product of a row and an activation row: plain Rust, the
    /// arithmetic every kernel gives bit for bit.
    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[Self::Activation]) -> f32;

    /// Four equally long rows as quads.
    fn quads(rows: [&[Self]; 4]) -> Vec<Self::Quad> {
        (0..rows[0].len())
            .map(|b| Self::quad(rows.map(|row| row[b])))
            .collect()
    }
}

/// A 32-value weight format (Q8_1 activations): one scale (and minimum) per block of
/// integer values, from which its weights and its reference follow (llama.cpp's
/// generic loop): per block, the exact integer sum of the 32 products is scaled by
/// `d_x * d_y` and added to the row's sum; with minimums, `m_x * s_y` is added to a
/// second sum, and the two are added at the end.
pub trait Block32: BlockFormat<Activation = BlockQ8_1> {
    /// The scale and the minimum (0 without) as f32.
    fn scale_and_minimum(&self) -> (f32, f32);
    /// The 32 integer values `q` (`w = d * q`, plus `m` with minimums).
    fn values(&self) -> [i8; QK];

    /// The 32 weights as f32 (as candle and llama.cpp dequantise them).
    fn dequantize(&self) -> [f32; QK] {
        let (d, m) = self.scale_and_minimum();
        self.values().map(|q| match Self::MINIMUMS {
            true => q as f32 * d + m,
            false => q as f32 * d,
        })
    }
}

/// A [`Block32`] format's [`BlockFormat::reference`].
pub fn reference32<B: Block32>(xs: impl IntoIterator<Item = B>, ys: &[BlockQ8_1]) -> f32 {
    let (mut acc, mut summs) = (0f32, 0f32);
    for (x, y) in xs.into_iter().zip(ys) {
        let (d, m) = x.scale_and_minimum();
        let sum: i32 = (x.values().iter().zip(&y.qs))
            .map(|(&q, &v)| q as i32 * v as i32)
            .sum();
        acc += (d * y.d) * sum as f32;
        if B::MINIMUMS {
            summs += m * y.s;
        }
    }
    acc + summs
}

/// The two [`BlockFormat`] methods of a [`Block32`] format, which follow from it (where
/// it is used, `Block32`, `BlockQ8_1` and `reference32` are in scope).
macro_rules! block32_arithmetic {
    () => {
        fn dequantize_into(&self, out: &mut [f32]) {
            out.copy_from_slice(&Block32::dequantize(self));
        }

        fn reference(xs: impl IntoIterator<Item = Self>, ys: &[BlockQ8_1]) -> f32 {
            reference32(xs, ys)
        }
    };
}
use block32_arithmetic;

/// A block's 16 bytes of 4-bit values as GGML packs them: value `j` in the low
/// nibble of byte `j`, value `16 + j` in its high nibble.
pub fn nibbles(qs: &[u8; QK / 2]) -> [u8; QK] {
    std::array::from_fn(|j| match j < QK / 2 {
        true => qs[j] & 0x0F,
        false => qs[j - QK / 2] >> 4,
    })
}

/// A Q5 block's 32 values `0..32`: its nibbles with bit `j` of `qh` as value `j`'s
/// fifth bit (GGML's layout).
pub fn five_bits(qs: &[u8; QK / 2], qh: u32) -> [u8; QK] {
    let low = nibbles(qs);
    std::array::from_fn(|j| low[j] | (((qh >> j) & 1) as u8) << 4)
}

/// A Q5 block's fifth bits as quads keep them: value `4k + i`'s bit (GGML's bit
/// `4k + i`) at bit `8i + k`. Byte `i` of the word then holds the bits of values `i`,
/// `4 + i`, ..., `28 + i`: copied into every 32-bit lane of 32 values in order, the
/// lane of values `4k..4k + 4` finds them at bit `k` of each byte, one mask apart,
/// with no shuffle.
pub fn spread(qh: u32) -> u32 {
    (0..QK).fold(0, |s, j| s | ((qh >> j) & 1) << (8 * (j % 4) + j / 4))
}

/// GGML's fifth bits from [`spread`]'s.
pub fn unspread(spread: u32) -> u32 {
    (0..QK).fold(0, |qh, j| qh | ((spread >> (8 * (j % 4) + j / 4)) & 1) << j)
}

/// Exact f16 → f32 for finite values (zero and subnormals included) in four integer
/// and float operations: the bits move into place and a multiply by 2^112 fixes the
/// exponent bias. Every kernel uses it, so all convert alike.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(((h & 0x7FFF) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (((h & 0x8000) as u32) << 16))
}
