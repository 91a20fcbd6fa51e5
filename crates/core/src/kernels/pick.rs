//! The one place that picks a kernel for this machine: AVX2 (with AVX-VNNI for the
//! 32-value formats, AVX-512 VNNI for decode steps and prompts, AVX-512 for the float
//! formats) where the CPU has it, simd128 (plain or relaxed, as built) in the browser,
//! the formats' reference elsewhere. All of them give the same bits.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::wasm::{simd128, simd128_float, simd128_k};
#[cfg(target_arch = "x86_64")]
use super::x86::{avx2, avx2_float, avx2_k, avx512_decode, avx512_float, avx512_k};

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
use super::formats::quantize_with;
use super::formats::{
    quantize_q8_1_reference, quantize_q8_k, round_into, BlockFloat, BlockFormat, BlockQ4K,
    BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0, BlockQ8_1,
    BlockQ8_K, QuadFloat, Rounded,
};
use super::rows::by_fours;

/// A weight format with tandem kernels: its products with activation rows on the
/// fastest kernel for this machine, and its activations' quantiser.
pub trait WeightBlock: BlockFormat {
    /// Quantise `x` (a multiple of [`BlockFormat::VALUES`] long) into `out`, as the
    /// activation format's reference quantiser does, bit for bit.
    fn quantize(x: &[f32], out: &mut [Self::Activation]);

    /// Four rows (as quads, one per block) times each activation row of `ys`
    /// (`out.len()` rows of `quads.len()` blocks).
    fn dot4(quads: &[Self::Quad], ys: &[Self::Activation], out: &mut [[f32; 4]]);

    /// The rows of `quads` (fours of rows one after another, each `ys`-row-length
    /// blocks long) times each activation row of `ys` into `out`, `(n, rows)`
    /// row-major (the last four may hold padding past `rows`): a prompt or a batch on
    /// the format's prompt kernel where it has one (x86's Q4_1 and Q8_0); one
    /// activation row (a decode step), or each row of several where the format has no
    /// prompt kernel (these weight rows stay in cache across them), sixteen
    /// rows at a time where the CPU has AVX-512 VNNI; and the rest four rows at a
    /// time (the K-quants and the float formats take every activation row four weight
    /// rows at a time, on AVX-512 where the CPU has it).
    fn dot_rows(quads: &[Self::Quad], ys: &[Self::Activation], out: &mut [f32], rows: usize);
}

/// [`WeightBlock`] for formats on one family of kernels: the 32-value formats with
/// Q8_1 activations, the K-quants with Q8_K.
macro_rules! weight_blocks {
    ($quantize:ident, $dot4:ident, $dot_rows:ident: $($block:ty),*) => {$(
        impl WeightBlock for $block {
            fn quantize(x: &[f32], out: &mut [Self::Activation]) {
                $quantize(x, out)
            }

            fn dot4(quads: &[Self::Quad], ys: &[Self::Activation], out: &mut [[f32; 4]]) {
                $dot4::<Self>(quads, ys, out)
            }

            fn dot_rows(
                quads: &[Self::Quad],
                ys: &[Self::Activation],
                out: &mut [f32],
                rows: usize,
            ) {
                $dot_rows::<Self>(quads, ys, out, rows)
            }
        }
    )*};
}

weight_blocks!(quantize_q8_1, dot4_q8_1, dot_rows_q8_1:
    BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ8_0);
weight_blocks!(quantize_q8_k, dot4_q8_k, dot_rows_q8_k: BlockQ4K, BlockQ5K, BlockQ6K);

/// [`WeightBlock`] for the float formats (F16, BF16, F32), one family over their
/// element type: activations rounded to it, four rows at a time.
impl<T: FloatSteps> WeightBlock for BlockFloat<T> {
    fn quantize(x: &[f32], out: &mut [Rounded<T>]) {
        round_into(x, out)
    }

    fn dot4(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [[f32; 4]]) {
        dot4_float(quads, ys, out)
    }

    fn dot_rows(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [f32], rows: usize) {
        by_fours(dot4_float::<T>, quads, ys, out, rows, 0)
    }
}

/// What a 32-value format needs to run on this target's kernels: its steps for the
/// x86 drivers, or for the simd128 driver, or nothing beyond the format where there
/// is no SIMD.
#[cfg(target_arch = "x86_64")]
pub trait Steps: avx2::Step + avx512_decode::Step16 {}
#[cfg(target_arch = "x86_64")]
impl<B: avx2::Step + avx512_decode::Step16> Steps for B {}
/// What a 32-value format needs to run on this target's kernels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub trait Steps: simd128::Step {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<B: simd128::Step> Steps for B {}
/// What a 32-value format needs to run on this target's kernels.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub trait Steps: super::formats::Block32 {}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl<B: super::formats::Block32> Steps for B {}

/// What a K-quant needs to run on this target's kernels: its steps for the x86
/// drivers, or for the simd128 one, or nothing beyond the format where there is no
/// SIMD.
#[cfg(target_arch = "x86_64")]
pub trait KSteps: avx512_k::Step512 {}
#[cfg(target_arch = "x86_64")]
impl<B: avx512_k::Step512> KSteps for B {}
/// What a K-quant needs to run on this target's kernels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub trait KSteps: simd128_k::Step {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<B: simd128_k::Step> KSteps for B {}
/// What a K-quant needs to run on this target's kernels.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub trait KSteps: BlockFormat<Activation = BlockQ8_K> {}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl<B: BlockFormat<Activation = BlockQ8_K>> KSteps for B {}

/// What a float format's element type needs to run on this target's kernels: its
/// steps for the x86 drivers, or for the simd128 one, or nothing beyond the type where
/// there is no SIMD.
#[cfg(target_arch = "x86_64")]
pub trait FloatSteps: avx512_float::Step512 {}
#[cfg(target_arch = "x86_64")]
impl<T: avx512_float::Step512> FloatSteps for T {}
/// What a float format's element type needs to run on this target's kernels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub trait FloatSteps: simd128_float::Step {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<T: simd128_float::Step> FloatSteps for T {}
/// What a float format's element type needs to run on this target's kernels.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub trait FloatSteps: super::formats::Float {}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl<T: super::formats::Float> FloatSteps for T {}

/// [`WeightBlock::dot4`] of a 32-value format: AVX2, simd128, or the reference.
fn dot4_q8_1<B: Steps>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    assert_eq!(quads.len() * out.len(), ys.len());
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: the CPU has AVX2 and F16C.
        return unsafe { avx2::dot4::<B>(quads, ys, out) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128::dot4::<B>(quads, ys, out);
    #[allow(unreachable_code)]
    reference4::<B>(quads, ys, out)
}

/// [`WeightBlock::dot_rows`] of a 32-value format: x86's prompt kernel (Q4_1's and
/// Q8_0's) for several activation rows, AVX-512 VNNI's sixteen rows at a time, then
/// fours.
fn dot_rows_q8_1<B: Steps>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [f32], rows: usize) {
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        let n = out.len() / rows;
        if n > 1 {
            // SAFETY: the CPU has AVX2 and F16C.
            done = unsafe { B::prompt_rows(quads, ys, out, rows) };
        }
        if done == 0 && avx2::avx512() {
            for (ys, out) in ys
                .chunks_exact(ys.len() / n)
                .zip(out.chunks_exact_mut(rows))
            {
                // SAFETY: the CPU has AVX2, F16C and AVX-512 VNNI.
                done = unsafe { avx512_decode::dot_rows::<B>(quads, ys, out, rows) };
            }
        }
    }
    by_fours(dot4_q8_1::<B>, quads, ys, out, rows, done)
}

/// [`WeightBlock::dot4`] of a K-quant: AVX-512 VNNI or AVX2, simd128, or the
/// reference.
fn dot4_q8_k<B: KSteps>(quads: &[B::Quad], ys: &[BlockQ8_K], out: &mut [[f32; 4]]) {
    assert_eq!(quads.len() * out.len(), ys.len());
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        return match avx2::avx512() {
            // SAFETY: the CPU has AVX2, F16C and AVX-512 VNNI.
            true => unsafe { avx512_k::dot4::<B>(quads, ys, out) },
            // SAFETY: the CPU has AVX2 and F16C.
            false => unsafe { avx2_k::dot4::<B>(quads, ys, out) },
        };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128_k::dot4::<B>(quads, ys, out);
    #[allow(unreachable_code)]
    reference4::<B>(quads, ys, out)
}

/// [`WeightBlock::dot_rows`] of a K-quant: four rows at a time.
fn dot_rows_q8_k<B: KSteps>(quads: &[B::Quad], ys: &[BlockQ8_K], out: &mut [f32], rows: usize) {
    by_fours(dot4_q8_k::<B>, quads, ys, out, rows, 0)
}

/// [`WeightBlock::dot4`] of a float format: AVX-512 or AVX2 (with FMA), simd128, or
/// the reference.
fn dot4_float<T: FloatSteps>(quads: &[QuadFloat<T>], ys: &[Rounded<T>], out: &mut [[f32; 4]]) {
    assert_eq!(quads.len() * out.len(), ys.len());
    #[cfg(target_arch = "x86_64")]
    if avx2_float::available() {
        return match avx512_float::available() {
            // SAFETY: the CPU has AVX2, F16C, FMA and AVX-512 F.
            true => unsafe { avx512_float::dot4(quads, ys, out) },
            // SAFETY: the CPU has AVX2, F16C and FMA.
            false => unsafe { avx2_float::dot4(quads, ys, out) },
        };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128_float::dot4(quads, ys, out);
    #[allow(unreachable_code)]
    reference4::<BlockFloat<T>>(quads, ys, out)
}

/// Four rows times each activation row of `ys` by the format's reference.
fn reference4<B: BlockFormat>(quads: &[B::Quad], ys: &[B::Activation], out: &mut [[f32; 4]]) {
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = std::array::from_fn(|r| B::reference(quads.iter().map(|q| B::block(q, r)), ys));
    }
}

/// Quantise `x` (a multiple of 32 long) into `out` as
/// [`quantize_q8_1_reference`] does, bit for bit: on AVX2, and on simd128 in the
/// browser, where they are.
pub fn quantize_q8_1(x: &[f32], out: &mut [BlockQ8_1]) {
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: the CPU has AVX2.
        return quantize_with(x, out, |xs, qs| unsafe { avx2::round_block(xs, qs) });
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return quantize_with(x, out, simd128::round_block);
    #[allow(unreachable_code)]
    quantize_q8_1_reference(x, out)
}
