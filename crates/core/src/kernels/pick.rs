//! The one place that picks a kernel for this machine: AVX2 (with AVX-VNNI, and
//! AVX-512 VNNI for decode steps and prompts) where the CPU has it, simd128 (plain or
//! relaxed, as built) in the browser, the formats' reference elsewhere. All of them
//! give the same bits.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::wasm::simd128;
#[cfg(target_arch = "x86_64")]
use super::x86::{avx2, avx512_decode, prompt_q4_1};

use super::formats::{quantize_q8_1_reference, quantize_with, BlockQ4_1, BlockQ8_0, BlockQ8_1};
use super::rows::by_fours;

/// What a format needs to run on this target's kernels: its steps for the x86 drivers,
/// or for the simd128 driver, or nothing beyond the format where there is no SIMD.
#[cfg(target_arch = "x86_64")]
pub trait Steps: avx2::Step + avx512_decode::Step16 {}
#[cfg(target_arch = "x86_64")]
impl<B: avx2::Step + avx512_decode::Step16> Steps for B {}
/// What a format needs to run on this target's kernels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub trait Steps: simd128::Step {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<B: simd128::Step> Steps for B {}
/// What a format needs to run on this target's kernels.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub trait Steps: super::formats::BlockFormat {}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl<B: super::formats::BlockFormat> Steps for B {}

/// A weight block format with tandem kernels: its products with Q8_1 activation rows
/// on the fastest kernel for this machine.
pub trait WeightBlock: Steps {
    /// Four rows (as quads, one per block) times each activation row of `ys`
    /// (`out.len()` rows of `quads.len()` blocks).
    fn dot4(quads: &[Self::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
        assert_eq!(quads.len() * out.len(), ys.len());
        #[cfg(target_arch = "x86_64")]
        if avx2::available() {
            // SAFETY: the CPU has AVX2 and F16C.
            return unsafe { avx2::dot4::<Self>(quads, ys, out) };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return simd128::dot4::<Self>(quads, ys, out);
        #[allow(unreachable_code)]
        for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
            *out = std::array::from_fn(|r| {
                Self::reference(quads.iter().map(|q| Self::block(q, r)), ys)
            });
        }
    }

    /// The rows of `quads` (fours of rows one after another, each `ys`-row-length
    /// blocks long) times each activation row of `ys` into `out`, `(n, rows)`
    /// row-major (the last four may hold padding past `rows`): a prompt on the
    /// format's [`WeightBlock::prompt_rows`]; one activation row (a decode step), or
    /// each row of several where the format has no prompt kernel (a batch of decode
    /// steps: these weight rows stay in cache across them), sixteen rows at a time
    /// where the CPU has AVX-512 VNNI; and the rest four rows at a time.
    fn dot_rows(quads: &[Self::Quad], ys: &[BlockQ8_1], out: &mut [f32], rows: usize) {
        #[allow(unused_mut)]
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if avx2::available() {
            let n = out.len() / rows;
            if n > 1 {
                // SAFETY: the CPU has AVX2 and F16C.
                done = unsafe { Self::prompt_rows(quads, ys, out, rows) };
            }
            if done == 0 && avx2::avx512() {
                for (ys, out) in ys
                    .chunks_exact(ys.len() / n)
                    .zip(out.chunks_exact_mut(rows))
                {
                    // SAFETY: the CPU has AVX2, F16C and AVX-512 VNNI.
                    done = unsafe { avx512_decode::dot_rows::<Self>(quads, ys, out, rows) };
                }
            }
        }
        by_fours(Self::dot4, quads, ys, out, rows, done)
    }

    /// A prompt's product on a kernel that takes more than four rows at once, where
    /// the format has one: how many fours of rows it did (the rest go four at a time).
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    #[cfg(target_arch = "x86_64")]
    unsafe fn prompt_rows(
        _quads: &[Self::Quad],
        _ys: &[BlockQ8_1],
        _out: &mut [f32],
        _rows: usize,
    ) -> usize {
        0
    }
}

impl WeightBlock for BlockQ8_0 {}

impl WeightBlock for BlockQ4_1 {
    /// x86's Q4_1 prompt kernel: a weight row per lane.
    #[cfg(target_arch = "x86_64")]
    unsafe fn prompt_rows(
        quads: &[Self::Quad],
        ys: &[BlockQ8_1],
        out: &mut [f32],
        rows: usize,
    ) -> usize {
        prompt_q4_1::dot_rows(quads, ys, out, rows)
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
