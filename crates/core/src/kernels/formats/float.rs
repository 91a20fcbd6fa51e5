//! The float formats F16, BF16 and F32 (GGML's tensors of plain floats), what they
//! share: weights taken 32 at a time as a block, times activations rounded to the
//! weights' type first (llama.cpp's `vec_dot_type`: f16 for F16, bf16 for BF16), and
//! the reference dot product in the order of ggml's AVX2 `ggml_vec_dot_f16`, one
//! order for every kernel.
//!
//! The order: 32 partial sums, the product of value `i` of each block added to sum
//! `i` (ggml's four accumulators of eight lanes: sum `i` is lane `i % 8` of
//! accumulator `i / 8`); then the accumulators as `GGML_F32x8_REDUCE` adds them,
//! `a0 += a2`, `a1 += a3`, `a0 += a1`, and the eight lanes `l` of `a0` as an AVX
//! horizontal sum does, `t = l[0..4] + l[4..8]`, then `(t0 + t1) + (t2 + t3)`.
//! Products are multiplied then added, never fused: the reference as written, and
//! every kernel for BF16 and F32, whose products can round (bf16's below f32's normal
//! range, f32's always). F16's products are exact in f32 (11-bit significands, and
//! exponents far within f32's range), so a fused multiply-add gives the same bits and
//! the kernels fuse where the instruction set can.

use std::marker::PhantomData;

use super::{ActivationBlock, BlockFormat, QK};

/// A type weights are stored in, and their activations rounded to: f16, bf16 or f32.
pub trait Float: Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// The GGUF type's name.
    const NAME: &'static str;
    /// Whether the product of two values is exact in f32, so that a fused multiply-add
    /// gives the bits of a multiply and an add.
    const EXACT_PRODUCTS: bool;
    /// Whether the exponent has f32's 8 bits (bf16, f32), not f16's 5.
    const WIDE_EXPONENT: bool;
    /// Whether quads keep each row's values in pairs, value `i` beside `16 + i`
    /// (bf16: a 32-bit lane of two holds value `i` in its low half and `16 + i` in its
    /// high half, so that a shift and a mask make f32s of both halves of a block in
    /// order), rather than in order.
    const PAIRED: bool;
    /// A value from its little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
    /// `x` rounded to this type (to nearest, ties to even).
    fn from_f32(x: f32) -> Self;
    /// The value as f32 (exact).
    fn to_f32(self) -> f32;

    /// `x` rounded to this type, as f32.
    fn round(x: f32) -> f32 {
        Self::from_f32(x).to_f32()
    }

    /// [`Float::round`] of each of 32 values (a type may do it faster, to the same
    /// bits).
    fn round32(xs: &[f32; QK], out: &mut [f32; QK]) {
        for (y, &x) in out.iter_mut().zip(xs) {
            *y = Self::round(x);
        }
    }
}

/// 32 weights of a float type (32 consecutive values of a GGUF tensor).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockFloat<T> {
    /// The values.
    pub values: [T; QK],
}

/// Block `b` of four rows: each row's 32 values in turn, in order or in pairs
/// ([`Float::PAIRED`]), 64-byte aligned, so that a row's block of f16 or bf16 is one
/// cache line, and of f32 two.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub struct QuadFloat<T> {
    /// Row `r`'s values.
    pub rows: [[T; QK]; 4],
}

/// Values `i` and `16 + i` side by side at `2i` and `2i + 1`.
fn paired<T: Copy>(v: [T; QK]) -> [T; QK] {
    std::array::from_fn(|j| v[j / 2 + j % 2 * QK / 2])
}

/// The values of [`paired`] in order again.
fn unpaired<T: Copy>(p: [T; QK]) -> [T; QK] {
    std::array::from_fn(|i| p[i % (QK / 2) * 2 + i / (QK / 2)])
}

/// 32 activations rounded to `T`, kept as f32 (exactly): the kernels multiply them
/// as they are, with no conversion per weight row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(64))]
pub struct Rounded<T> {
    /// The values.
    pub values: [f32; QK],
    float: PhantomData<T>,
}

impl<T: Float> ActivationBlock for Rounded<T> {
    const VALUES: usize = QK;

    fn quantize_reference(x: &[f32], out: &mut [Self]) {
        round_into(x, out)
    }
}

/// Each 32 values of `x` rounded to `T` into a block of `out`: the only rounding (a
/// small part of a product).
pub fn round_into<T: Float>(x: &[f32], out: &mut [Rounded<T>]) {
    debug_assert_eq!(x.len(), out.len() * QK);
    for (xs, block) in x.chunks_exact(QK).zip(out.iter_mut()) {
        T::round32(xs.try_into().expect("chunks of 32"), &mut block.values);
    }
}

/// Offsets of the high 16 bits of each of 32 little-endian values of `size` bytes.
const fn high_halves(size: usize) -> [usize; QK] {
    let mut at = [0; QK];
    let mut i = 0;
    while i < QK {
        at[i] = size * i + size - 2;
        i += 1;
    }
    at
}

impl<T: Float> BlockFormat for BlockFloat<T> {
    const NAME: &'static str = T::NAME;
    const BYTES: usize = QK * size_of::<T>();
    const MINIMUMS: bool = false;
    /// Every value (an f16 or a bf16), or its high half (an f32's, a bf16).
    const HALVES: &'static [usize] = &high_halves(size_of::<T>());
    const BF16_HALVES: bool = T::WIDE_EXPONENT;
    type Activation = Rounded<T>;
    type Quad = QuadFloat<T>;

    fn read(bytes: &[u8]) -> Self {
        let size = size_of::<T>();
        BlockFloat {
            values: std::array::from_fn(|i| T::from_le(&bytes[size * i..][..size])),
        }
    }

    fn quad(blocks: [Self; 4]) -> QuadFloat<T> {
        QuadFloat {
            rows: blocks.map(|b| match T::PAIRED {
                true => paired(b.values),
                false => b.values,
            }),
        }
    }

    fn block(quad: &QuadFloat<T>, r: usize) -> Self {
        BlockFloat {
            values: match T::PAIRED {
                true => unpaired(quad.rows[r]),
                false => quad.rows[r],
            },
        }
    }

    fn dequantize_into(&self, out: &mut [f32]) {
        for (w, &v) in out.iter_mut().zip(&self.values) {
            *w = v.to_f32();
        }
    }

    fn reference(xs: impl IntoIterator<Item = Self>, ys: &[Rounded<T>]) -> f32 {
        let mut sums = [0f32; QK];
        for (x, y) in xs.into_iter().zip(ys) {
            for ((s, &w), &v) in sums.iter_mut().zip(&x.values).zip(&y.values) {
                *s += w.to_f32() * v;
            }
        }
        let lanes: [f32; 8] =
            std::array::from_fn(|l| (sums[l] + sums[16 + l]) + (sums[8 + l] + sums[24 + l]));
        let t: [f32; 4] = std::array::from_fn(|i| lanes[i] + lanes[4 + i]);
        (t[0] + t[1]) + (t[2] + t[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_back() {
        let v: [usize; QK] = std::array::from_fn(|i| i);
        let p = paired(v);
        assert_eq!(&p[..4], &[0, 16, 1, 17]);
        assert_eq!(&p[30..], &[15, 31]);
        assert_eq!(unpaired(p), v);
    }

    /// Sums whose rounding shows the order: `a1 + a3` is added before `a0`, lanes
    /// `l` and `4 + l` before their neighbours.
    #[test]
    fn the_reference_adds_in_ggml_avx2_order() {
        let ones = BlockFloat { values: [1f32; QK] };
        let dot = |pairs: &[(usize, f32)]| {
            let mut y = Rounded::<f32>::default();
            for &(i, v) in pairs {
                y.values[i] = v;
            }
            BlockFloat::reference([ones], &[y])
        };
        let big = 2f32.powi(24);
        // One at a time, each 1 would be lost beside 2^24; in ggml's order the two
        // are added first (accumulators 1 and 3), and so are lanes 1 and 5.
        assert_eq!(dot(&[(0, big), (8, 1.0), (24, 1.0)]), big + 2.0);
        assert_eq!(dot(&[(0, big), (1, 1.0), (5, 1.0)]), big + 2.0);
        // Lanes 0 and 4 are added before lanes 1 and 5 join: 2^24 + 1 rounds to even.
        assert_eq!(dot(&[(0, big), (4, 1.0), (1, 1.0), (5, 1.0)]), big + 2.0);
    }
}
