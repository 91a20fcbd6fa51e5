//! A self-check of the kernel this machine picks against the formats' reference, for
//! tests in any environment (natively, and in a browser through the wasm build).

use super::formats::BlockFormat;
use super::pick::WeightBlock;

/// Where [`WeightBlock::dot4`] of four rows against one activation row at a time, or
/// against all of `ys` at once (rows of `rows[0].len()` blocks), differs from the
/// reference in any bit: the first such place, described; `None` when nowhere.
pub fn dot4_mismatch<B: WeightBlock>(rows: [&[B]; 4], ys: &[B::Activation]) -> Option<String> {
    let n = rows[0].len();
    let quads = B::quads(rows);
    let mut all = vec![[0f32; 4]; ys.len() / n];
    B::dot4(&quads, ys, &mut all);
    for (t, (ys, all)) in ys.chunks_exact(n).zip(&all).enumerate() {
        let mut one = [[0f32; 4]];
        B::dot4(&quads, ys, &mut one);
        for (r, row) in rows.iter().enumerate() {
            let want = B::reference(row.iter().copied(), ys);
            for (got, how) in [(all[r], "with the others"), (one[0][r], "alone")] {
                if got.to_bits() != want.to_bits() {
                    return Some(format!(
                        "{} row {r} of {n} blocks, activation row {t} {how}: {got} where the \
                         reference gives {want}",
                        B::NAME
                    ));
                }
            }
        }
    }
    None
}

/// The blocks in `bytes` (whole blocks in file order: random bytes, say) with their
/// 16-bit floats ([`BlockFormat::HALVES`]: f16 scales and minimums, the float
/// formats' values) made finite: an f16 of exponent 31 (infinite or NaN) gets
/// exponent 15, and all others, the largest and the subnormal ones too, stay as they
/// are; a bf16 (or an f32's high half) of exponent 224 or more (2^97 and up, infinite,
/// NaN) gets 128 less, so that products with activations, and sums of many, stay
/// finite too.
pub fn finite_blocks<B: BlockFormat>(bytes: &[u8]) -> Vec<B> {
    // The exponent's top bits in a half's high byte: f16's five, or bf16's top three.
    let top = if B::BF16_HALVES { 0x70 } else { 0x7C };
    bytes
        .chunks_exact(B::BYTES)
        .map(|b| {
            let mut b = b.to_vec();
            for &h in B::HALVES {
                // All of them set: the exponent loses its top bit.
                if b[h + 1] & top == top {
                    b[h + 1] &= 0b1011_1111;
                }
            }
            B::read(&b)
        })
        .collect()
}
