//! The wasm simd128 driver every weight format shares: four rows at a time from
//! quads, one float lane per row. Per block, each row's exact integer sum is
//! gathered into its lane, and the four rows' scales are converted, multiplied and
//! added in one vector; each activation block is prepared once for the four rows.
//! Against several activation rows (a prompt), each quad is unpacked once for all of
//! them. The formats give their scales, how they unpack a row and prepare an
//! activation block, and their integer sums.
//!
//! With the `relaxed-simd` feature (the browser builds for engines that have relaxed
//! SIMD) the formats sum with `i32x4.relaxed_dot_i8x16_i7x16_add`: four products
//! summed per lane in one instruction (VNNI's `vpdpbusd` on recent x86, `sdot` on
//! ARM). It is exact here: one operand is always within 0..=127 (4- and 5-bit values,
//! or absolute values of Q8_0 weights), so no engine may round or saturate it.
//!
//! The 4- and 5-bit formats ([`Nibbles`]) share one step: their values as unsigned
//! bytes in order, `OFFSET` above the real ones, and `OFFSET * Σy` taken off where
//! each row's sums start.

use std::arch::wasm32::*;

use crate::kernels::formats::{Block32, BlockQ8_1, QK};

/// A 32-value weight format's step on simd128.
pub trait Step: Block32 {
    /// An activation block prepared for `sum`.
    type Y: Copy;
    /// A row's block unpacked for `sum`.
    type W: Copy;
    /// An activation block's values as this format wants them, once for all rows.
    fn widen(y: &BlockQ8_1) -> Self::Y;
    /// The quad's four scales and four minimums (zero for a format without) as f32.
    fn scales(quad: &Self::Quad) -> (v128, v128);
    /// Row `r`'s 32 values as the format's `sum` takes them.
    fn unpack(quad: &Self::Quad, r: usize) -> Self::W;
    /// Four exact integer sums whose total is the block's dot product, from
    /// `w = unpack(..)` and `y = widen(..)`.
    fn sum(w: &Self::W, y: &Self::Y) -> v128;
}

/// A 4- or 5-bit format's own part of its [`Step`]: the rest is shared.
pub trait Nibbles: Block32 {
    /// The quad's four scales and four minimums (zero for a format without) as f32.
    fn quad_scales(quad: &Self::Quad) -> (v128, v128);
    /// Row `r`'s 16 bytes of nibbles.
    fn row_nibbles(quad: &Self::Quad, r: usize) -> &[u8; QK / 2];
    /// Row `r`'s fifth bits (as `formats::spread` lays them out), for a 5-bit format.
    #[inline(always)]
    fn row_fifth_bits(_quad: &Self::Quad, _r: usize) -> Option<u32> {
        None
    }
}

/// An activation block prepared for a [`Nibbles`] format's sums (`y`), and where
/// each row's sums start: lanes totalling `-OFFSET * Σy`.
#[derive(Clone, Copy)]
pub struct Started<Y> {
    y: Y,
    start: v128,
}

/// The plain build: values and activations as i16, split by parity (even then odd
/// positions of values 0..16, then of 16..32), summed in pairs.
#[cfg(not(feature = "relaxed-simd"))]
impl<B: Nibbles> Step for B {
    type Y = Started<[v128; 4]>;
    type W = [v128; 4];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> Self::Y {
        let p = y.qs.as_ptr() as *const v128;
        // SAFETY: a block has 32 values.
        let (lo, hi) = unsafe { (v128_load(p), v128_load(p.add(1))) };
        let even = |v| i16x8_shr(i16x8_shl(v, 8), 8);
        let odd = |v| i16x8_shr(v, 8);
        let y = [even(lo), odd(lo), even(hi), odd(hi)];
        let start = match B::OFFSET {
            0 => i32x4_splat(0),
            offset => {
                let sum = i16x8_add(i16x8_add(y[0], y[1]), i16x8_add(y[2], y[3]));
                i32x4_dot_i16x8(sum, i16x8_splat(-(offset as i16)))
            }
        };
        Started { y, start }
    }

    #[inline(always)]
    fn scales(quad: &B::Quad) -> (v128, v128) {
        B::quad_scales(quad)
    }

    /// As 16-bit lanes, byte 2i holds values 2i and 2i+16, byte 2i+1 values 2i+1
    /// and 2i+17: shifts and masks split them by parity, as `widen` does. A fifth
    /// bit is found in lane `i` of the word's copies as 16-bit lanes, at bit `i / 2`
    /// (value 2i), `8 + i / 2` (2i+1), `4 + i / 2` (2i+16) or `12 + i / 2` (2i+17):
    /// masked, it is 16 or more when set (the first after a shift), so the smaller
    /// of it and 16 is what it adds.
    #[inline(always)]
    fn unpack(quad: &B::Quad, r: usize) -> [v128; 4] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(B::row_nibbles(quad, r).as_ptr() as *const v128) };
        let m = u16x8_splat(0x0F);
        let w = [
            v128_and(q, m),
            v128_and(u16x8_shr(q, 8), m),
            v128_and(u16x8_shr(q, 4), m),
            u16x8_shr(q, 12),
        ];
        let Some(qh) = B::row_fifth_bits(quad, r) else {
            return w;
        };
        let bits = u32x4_splat(qh);
        let masks = u16x8(1, 1, 2, 2, 4, 4, 8, 8);
        let sixteen = u16x8_splat(16);
        let add = |w, bits, shift| {
            let set = u16x8_min(v128_and(bits, u16x8_shl(masks, shift)), sixteen);
            v128_or(w, set)
        };
        [
            add(w[0], u16x8_shl(bits, 4), 4),
            add(w[1], bits, 8),
            add(w[2], bits, 4),
            add(w[3], bits, 12),
        ]
    }

    /// The pair sums of the even and odd positions, added, from where the row's sums
    /// start.
    #[inline(always)]
    fn sum(w: &[v128; 4], y: &Self::Y) -> v128 {
        i32x4_add(y.start, pair_sums(w, &y.y))
    }
}

/// The relaxed-SIMD build: values as unsigned bytes in order, times the activations
/// in fours.
#[cfg(feature = "relaxed-simd")]
impl<B: Nibbles> Step for B {
    type Y = Started<[v128; 2]>;
    type W = [v128; 2];

    #[inline(always)]
    fn widen(y: &BlockQ8_1) -> Self::Y {
        let y = halves(&y.qs);
        let start = match B::OFFSET {
            0 => i32x4_splat(0),
            offset => i32x4_neg(dots(&[i8x16_splat(offset); 2], &y, i32x4_splat(0))),
        };
        Started { y, start }
    }

    #[inline(always)]
    fn scales(quad: &B::Quad) -> (v128, v128) {
        B::quad_scales(quad)
    }

    /// Values 0..16 (the low nibbles), then 16..32, as bytes in value order. A fifth
    /// bit is found in lane `k` of the word's copies at bit `k` of each byte (values
    /// `4k..4k + 4`) or bit `4 + k` (values `16 + 4k..`).
    #[inline(always)]
    fn unpack(quad: &B::Quad, r: usize) -> [v128; 2] {
        // SAFETY: a block has 16 bytes of nibbles.
        let q = unsafe { v128_load(B::row_nibbles(quad, r).as_ptr() as *const v128) };
        let m = u8x16_splat(0x0F);
        let w = [v128_and(q, m), v128_and(u16x8_shr(q, 4), m)];
        let Some(qh) = B::row_fifth_bits(quad, r) else {
            return w;
        };
        let bits = u32x4_splat(qh);
        let masks = u32x4(0x0101_0101, 0x0202_0202, 0x0404_0404, 0x0808_0808);
        let add = |w, masks| {
            let set = i8x16_eq(v128_and(bits, masks), masks);
            v128_or(w, v128_and(set, u8x16_splat(16)))
        };
        [add(w[0], masks), add(w[1], u32x4_shl(masks, 4))]
    }

    #[inline(always)]
    fn sum(w: &[v128; 2], y: &Self::Y) -> v128 {
        dots(w, &y.y, y.start)
    }
}

/// `acc` plus the products of `w`'s bytes (within 0..=127, so exact on every
/// engine) and `y`'s (signed), in fours: relaxed SIMD's dot.
#[cfg(feature = "relaxed-simd")]
#[inline(always)]
pub fn dots(w: &[v128; 2], y: &[v128; 2], acc: v128) -> v128 {
    let acc = i32x4_relaxed_dot_i8x16_i7x16_add(y[0], w[0], acc);
    i32x4_relaxed_dot_i8x16_i7x16_add(y[1], w[1], acc)
}

/// 32 signed bytes widened to i16 in order.
#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
pub fn widened(values: &[i8; QK]) -> [v128; 4] {
    let p = values.as_ptr();
    // SAFETY: a block has 32 values.
    std::array::from_fn(|i| unsafe { i16x8_load_extend_i8x8(p.add(8 * i)) })
}

/// A quad unpacked: four rows' values, their scales and minimums.
struct Unpacked<W> {
    w: [W; 4],
    d: v128,
    m: v128,
}

#[inline(always)]
fn unpacked<B: Step>(quad: &B::Quad) -> Unpacked<B::W> {
    let (d, m) = B::scales(quad);
    Unpacked {
        w: std::array::from_fn(|r| B::unpack(quad, r)),
        d,
        m,
    }
}

/// Four f16 values as f32, exactly as `blocks::f16_to_f32` converts one.
#[inline(always)]
pub fn f16x4(h: &[u16; 4]) -> v128 {
    // SAFETY: four u16 are read from four.
    let h = unsafe { u32x4_load_extend_u16x4(h.as_ptr()) };
    let bits = i32x4_shl(v128_and(h, u32x4_splat(0x7FFF)), 13);
    let magnitude = f32x4_mul(bits, f32x4_splat(f32::from_bits(0x7780_0000)));
    v128_or(magnitude, i32x4_shl(v128_and(h, u32x4_splat(0x8000)), 16))
}

/// A block's 32 byte values as they are, in two vectors (for the relaxed-SIMD sums).
#[cfg(feature = "relaxed-simd")]
#[inline(always)]
pub fn halves(values: &[i8; QK]) -> [v128; 2] {
    let p = values.as_ptr() as *const v128;
    // SAFETY: two vectors of 16 are read from 32 bytes.
    unsafe { [v128_load(p), v128_load(p.add(1))] }
}

/// Sums of the products of four i16 vectors, in pairs (`i32x4.dot_i16x8_s`), added:
/// four exact sums whose total is the 32 products' (the plain builds' `sum`).
#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
pub fn pair_sums(w: &[v128; 4], y16: &[v128; 4]) -> v128 {
    let pairs: [v128; 4] = std::array::from_fn(|i| i32x4_dot_i16x8(w[i], y16[i]));
    i32x4_add(i32x4_add(pairs[0], pairs[1]), i32x4_add(pairs[2], pairs[3]))
}

/// The totals of four vectors' lanes, in order: `[Σa, Σb, Σc, Σd]`.
#[inline(always)]
pub fn totals([a, b, c, d]: [v128; 4]) -> v128 {
    let pairs = |a, b| {
        i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(a, b),
            i32x4_shuffle::<2, 6, 3, 7>(a, b),
        )
    };
    let (ab, cd) = (pairs(a, b), pairs(c, d));
    i32x4_add(
        i32x4_shuffle::<0, 1, 4, 5>(ab, cd),
        i32x4_shuffle::<2, 3, 6, 7>(ab, cd),
    )
}

/// Four rows (quads, one per block, as `scales` and `unpack` read them: a row is
/// unpacked just before its sum, so that few values are live at once) times one
/// activation row.
#[inline(always)]
fn dot4_row<B: Step, Q>(
    quads: &[Q],
    scales: impl Fn(&Q) -> (v128, v128),
    unpack: impl Fn(&Q, usize) -> B::W,
    ys: &[BlockQ8_1],
) -> [f32; 4] {
    let (mut acc, mut summs) = (f32x4_splat(0.0), f32x4_splat(0.0));
    for (x, y) in quads.iter().zip(ys) {
        let yw = B::widen(y);
        let (xd, xm) = scales(x);
        let sums = totals(std::array::from_fn(|r| B::sum(&unpack(x, r), &yw)));
        let d = f32x4_mul(xd, f32x4_splat(y.d));
        acc = f32x4_add(acc, f32x4_mul(d, f32x4_convert_i32x4(sums)));
        if B::MINIMUMS {
            summs = f32x4_add(summs, f32x4_mul(xm, f32x4_splat(y.s)));
        }
    }
    let mut out = [0f32; 4];
    // SAFETY: four floats are written into four.
    unsafe { v128_store(out.as_mut_ptr() as *mut v128, f32x4_add(acc, summs)) };
    out
}

/// Four rows (as quads, one per block) times each activation row of `ys` (`out.len()`
/// rows of `quads.len()` blocks): one row unpacks as it goes, several share the
/// quads unpacked once.
#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
pub fn dot4<B: Step>(quads: &[B::Quad], ys: &[BlockQ8_1], out: &mut [[f32; 4]]) {
    if let [out] = out {
        *out = dot4_row::<B, B::Quad>(quads, B::scales, B::unpack, ys);
        return;
    }
    let quads: Vec<Unpacked<B::W>> = quads.iter().map(unpacked::<B>).collect();
    for (ys, out) in ys.chunks_exact(quads.len()).zip(out) {
        *out = dot4_row::<B, Unpacked<B::W>>(&quads, |u| (u.d, u.m), |u, r| u.w[r], ys);
    }
}

/// `max|x|` of 32 values, the values as `round_half_even(x * 127 / max|x|)` into
/// `qs`, and their sum: `blocks::round_block` in eight lanes (max is exact in any
/// order, `nearest` rounds half to even).
pub fn round_block(xs: &[f32; QK], qs: &mut [i8; QK]) -> (f32, i32) {
    let p = xs.as_ptr() as *const v128;
    // SAFETY: eight vectors of four are read from 32 floats.
    let v: [v128; 8] = std::array::from_fn(|i| unsafe { v128_load(p.add(i)) });
    let max = v
        .iter()
        .fold(f32x4_splat(0.0), |m, &v| f32x4_max(m, f32x4_abs(v)));
    let max = f32x4_max(max, i32x4_shuffle::<2, 3, 0, 1>(max, max));
    let max = f32x4_extract_lane::<0>(f32x4_max(max, i32x4_shuffle::<1, 0, 3, 2>(max, max)));
    let id = f32x4_splat(if max != 0.0 { 127.0 / max } else { 0.0 });
    let q = v.map(|v| i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, id))));
    let sum = q.iter().fold(i32x4_splat(0), |s, &q| i32x4_add(s, q));
    let sum = i32x4_add(sum, i32x4_shuffle::<2, 3, 0, 1>(sum, sum));
    let sum = i32x4_extract_lane::<0>(i32x4_add(sum, i32x4_shuffle::<1, 0, 3, 2>(sum, sum)));
    let bytes = |i: usize| {
        i8x16_narrow_i16x8(
            i16x8_narrow_i32x4(q[i], q[i + 1]),
            i16x8_narrow_i32x4(q[i + 2], q[i + 3]),
        )
    };
    let out = qs.as_mut_ptr() as *mut v128;
    // SAFETY: two vectors of 16 are written into 32 bytes.
    unsafe {
        v128_store(out, bytes(0));
        v128_store(out.add(1), bytes(4));
    }
    (max, sum)
}
