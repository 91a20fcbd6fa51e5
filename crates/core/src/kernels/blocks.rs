//! The block formats (Q4_1 and Q8_0 weights, Q8_1 activations), the trait the
//! weight formats share, and quantising activations to Q8_1.

use half::f16;

/// Values per block.
pub const QK: usize = 32;

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

/// 32 weights as 8-bit values `q` with `w = d * q` (GGML's `block_q8_0`, 34 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct BlockQ8_0 {
    /// Scale (f16 bits).
    pub d: u16,
    /// Values in -127..=127.
    pub qs: [i8; QK],
}

/// Bytes of one Q8_0 block in a GGUF file.
pub const Q8_0_BYTES: usize = 34;

impl BlockQ8_0 {
    /// Read a block from its 34 bytes in file order (little-endian f16 d, values).
    /// GGML's quantiser never writes -128; one in a file is read as -127, so that
    /// every kernel (the x86 one takes absolute values of bytes) agrees.
    pub fn from_bytes(b: &[u8]) -> Self {
        BlockQ8_0 {
            d: u16::from_le_bytes([b[0], b[1]]),
            qs: std::array::from_fn(|i| (b[2 + i] as i8).max(-127)),
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

/// Block `b` of four Q8_0 rows: their scales, their values.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct QuadQ8_0 {
    /// Scales (f16 bits).
    pub d: [u16; 4],
    /// Values, as in [`BlockQ8_0`].
    pub qs: [[i8; QK]; 4],
}

/// A weight block format with tandem kernels: how it is read, and its products with
/// Q8_1 activation rows. Matrices keep their rows in fours: block `b` of four rows
/// side by side (a [`WeightBlock::Quad`]), their scales together, so that a kernel
/// converts and multiplies the four rows' scales in one step.
pub trait WeightBlock: Copy + Default + Send + Sync {
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
    /// Four rows (as quads, one per block) times each activation row of `ys`
    /// (`out.len()` rows of `quads.len()` blocks), on the fastest kernel for this
    /// machine.
    fn dot4(quads: &[Self::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]);
    /// The rows of `quads` (fours of rows one after another, each `ys`-row-length
    /// blocks long) times each activation row of `ys` into `out`, `(n, rows)`
    /// row-major (the last four may hold padding past `rows`). A format may do a
    /// prompt's product (several activation rows) faster with more rows at once; by
    /// default, four rows at a time.
    fn dot_rows(quads: &[Self::Quad], ys: &[BlockQ8_1], out: &mut [f32], rows: usize) {
        dot_rows_by_fours::<Self>(quads, ys, out, rows, 0)
    }

    /// Four equally long rows as quads.
    fn quads(rows: [&[Self]; 4]) -> Vec<Self::Quad> {
        (0..rows[0].len())
            .map(|b| Self::quad(rows.map(|row| row[b])))
            .collect()
    }
}

/// [`WeightBlock::dot_rows`] four rows at a time, from four `from` on (the fours
/// before it are left as they are). One activation row (a decode step) allocates
/// nothing.
pub fn dot_rows_by_fours<B: WeightBlock>(
    quads: &[B::Quad],
    ys: &[BlockQ8_1],
    out: &mut [f32],
    rows: usize,
    from: usize,
) {
    let fours = rows.div_ceil(4);
    let per_row = quads.len() / fours;
    let (mut one, mut many) = ([[0f32; 4]], Vec::new());
    let dots: &mut [[f32; 4]] = match out.len() / rows {
        1 => &mut one,
        n => {
            many.resize(n, [0f32; 4]);
            &mut many
        }
    };
    for g in from..fours {
        B::dot4(&quads[g * per_row..][..per_row], ys, dots);
        put(out, rows, 4 * g, dots);
    }
}

/// Each activation row's products `dots` of weight rows `first..` into `out`, `(n,
/// rows)` row-major (the last of `dots` may be padding past `rows`).
pub fn put<const W: usize>(out: &mut [f32], rows: usize, first: usize, dots: &[[f32; W]]) {
    for (out, dots) in out.chunks_exact_mut(rows).zip(dots) {
        out[first..].iter_mut().zip(dots).for_each(|(o, &d)| *o = d);
    }
}

/// [`WeightBlock::dot4`] for a format with a step on both drivers: AVX2 when the CPU
/// has it, simd128 in the browser, the reference elsewhere.
macro_rules! dot4_on_the_fastest_driver {
    () => {
        fn dot4(quads: &[Self::Quad], ys: &[$crate::kernels::BlockQ8_1], out: &mut [[f32; 4]]) {
            assert_eq!(quads.len() * out.len(), ys.len());
            #[cfg(target_arch = "x86_64")]
            if $crate::kernels::avx2::available() {
                // SAFETY: the CPU has AVX2 and F16C.
                return unsafe { $crate::kernels::avx2::dot4::<Self>(quads, ys, out) };
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            return $crate::kernels::simd128::dot4::<Self>(quads, ys, out);
            #[allow(unreachable_code)]
            for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
                *out = std::array::from_fn(|r| {
                    Self::reference(quads.iter().map(|q| Self::block(q, r)), ys)
                });
            }
        }
    };
}
pub(super) use dot4_on_the_fastest_driver;

/// Exact f16 → f32 for finite values (zero and subnormals included) in four integer
/// and float operations: the bits move into place and a multiply by 2^112 fixes the
/// exponent bias. Every kernel uses it, so all convert alike.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(((h & 0x7FFF) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (((h & 0x8000) as u32) << 16))
}

/// 32 activations as `x ≈ d * q` with `s = d * sum(q)` (GGML's `block_q8_1`); the
/// scales are kept as the f32 values of their f16 roundings.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct BlockQ8_1 {
    /// The values.
    pub qs: [i8; QK],
    /// Scale.
    pub d: f32,
    /// Scale times the sum of the values.
    pub s: f32,
}

impl Default for BlockQ8_1 {
    fn default() -> Self {
        BlockQ8_1 {
            qs: [0; QK],
            d: 0.0,
            s: 0.0,
        }
    }
}

/// Quantise `x` (a multiple of 32 long) into `out`, as llama.cpp's x86 SIMD path
/// does: `d = max|x| / 127`, `q = round_half_even(x * 127 / max|x|)`,
/// `s = f16(d * sum q)`. On AVX2, and on simd128 in the browser, with the same
/// results as [`quantize_q8_1_reference`] for finite `x`.
pub fn quantize_q8_1(x: &[f32], out: &mut [BlockQ8_1]) {
    #[cfg(target_arch = "x86_64")]
    if super::avx2::available() {
        // SAFETY: the CPU has AVX2.
        return quantize(x, out, |xs, qs| unsafe { super::avx2::round_block(xs, qs) });
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return quantize(x, out, super::simd128::round_block);
    #[allow(unreachable_code)]
    quantize_q8_1_reference(x, out)
}

/// [`quantize_q8_1`] in plain Rust.
pub fn quantize_q8_1_reference(x: &[f32], out: &mut [BlockQ8_1]) {
    quantize(x, out, round_block)
}

/// Each 32 values of `x` into a block of `out`, their values rounded by `round`.
#[inline(always)]
fn quantize(
    x: &[f32],
    out: &mut [BlockQ8_1],
    round: impl Fn(&[f32; QK], &mut [i8; QK]) -> (f32, i32),
) {
    debug_assert_eq!(x.len(), out.len() * QK);
    for (xs, block) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xs = xs.try_into().expect("chunks of 32");
        let (max, sum) = round(xs, &mut block.qs);
        let d = max / 127.0;
        block.d = f16::from_f32(d).to_f32();
        block.s = f16::from_f32(d * sum as f32).to_f32();
    }
}

/// `max|x|` of 32 values, the values as `round_half_even(x * 127 / max|x|)` into
/// `qs`, and their sum.
fn round_block(xs: &[f32; QK], qs: &mut [i8; QK]) -> (f32, i32) {
    let max = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let id = if max != 0.0 { 127.0 / max } else { 0.0 };
    let mut sum = 0i32;
    for (q, &v) in qs.iter_mut().zip(xs) {
        *q = round_ties_even(v * id) as i8;
        sum += *q as i32;
    }
    (max, sum)
}

/// Round half to even for |v| < 2^22 (here |v| <= 127): adding and taking away
/// 1.5 * 2^23 leaves the float rounded by the FPU, with no libm call.
#[inline(always)]
fn round_ties_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

/// Asserts that [`WeightBlock::dot4`] of four rows against one activation row, and
/// against all of `ys` at once (rows of `rows[0].len()` blocks), equals the reference
/// bit for bit.
#[cfg(test)]
pub(super) fn assert_dot4_is_the_reference<B: WeightBlock>(rows: [&[B]; 4], ys: &[BlockQ8_1]) {
    let n = rows[0].len();
    let quads = B::quads(rows);
    let mut all = vec![[0f32; 4]; ys.len() / n];
    B::dot4(&quads, ys, &mut all);
    for (t, (ys, all)) in ys.chunks_exact(n).zip(&all).enumerate() {
        let mut one = [[0f32; 4]];
        B::dot4(&quads, ys, &mut one);
        for (r, row) in rows.iter().enumerate() {
            let want = B::reference(row.iter().copied(), ys).to_bits();
            assert_eq!(
                all[r].to_bits(),
                want,
                "row {r} of {n} blocks, activation row {t}"
            );
            assert_eq!(one[0][r].to_bits(), want, "row {r} of {n} blocks, alone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion_and_rounding_are_exact() {
        for h in (0..=u16::MAX).filter(|h| h & 0x7C00 != 0x7C00) {
            assert_eq!(
                f16_to_f32(h).to_bits(),
                f16::from_bits(h).to_f32().to_bits(),
                "{h:#x}"
            );
        }
        for i in -1270..=1270 {
            let v = i as f32 / 10.0 + 0.05;
            assert_eq!(round_ties_even(v), v.round_ties_even(), "{v}");
        }
        for v in [0.5f32, 1.5, 2.5, -0.5, -1.5, 126.5, -127.0] {
            assert_eq!(round_ties_even(v), v.round_ties_even());
        }
    }

    #[test]
    fn q8_1_keeps_values_within_half_a_step_and_sums() {
        let x: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 64) as f32 - 30.5) * 0.173)
            .collect();
        let mut q = vec![BlockQ8_1::default(); 2];
        quantize_q8_1(&x, &mut q);
        for (xs, b) in x.chunks(QK).zip(&q) {
            let max = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(b.qs.iter().any(|&v| v.abs() == 127));
            for (&v, &qv) in xs.iter().zip(&b.qs) {
                assert!((v - qv as f32 * max / 127.0).abs() <= max / 127.0 * 0.5001);
            }
            let sum: i32 = b.qs.iter().map(|&v| v as i32).sum();
            assert!((b.s - b.d * sum as f32).abs() <= b.s.abs() * 1e-3 + 1e-6);
        }
    }

    #[test]
    fn the_fast_quantiser_equals_the_reference() {
        // Ties (half to even), every value's order of magnitude, a block of zeros.
        let mut x: Vec<f32> = (0..32)
            .map(|i| [127.0, 2.5, -2.5, 3.5, -0.5, 1.5, -126.5][i % 7])
            .collect();
        x.extend((0..64).map(|i| ((i * 37 % 64) as f32 - 30.5) * 1.7f32.powi(i % 19 - 9)));
        x.extend([0.0; 32]);
        let (mut fast, mut reference) = ([BlockQ8_1::default(); 4], [BlockQ8_1::default(); 4]);
        quantize_q8_1(&x, &mut fast);
        quantize_q8_1_reference(&x, &mut reference);
        assert_eq!(fast, reference);
        assert_eq!(&fast[0].qs[..7], &[127, 2, -2, 4, 0, 2, -126]);
    }

    #[test]
    fn zeros_quantise_to_zero_scales() {
        let mut q = vec![BlockQ8_1::default(); 1];
        quantize_q8_1(&[0.0; QK], &mut q);
        assert_eq!(q[0], BlockQ8_1::default());
    }
}
