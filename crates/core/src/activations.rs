//! The model's non-linear functions: its two uses of `exp`, each computed as candle
//! computes it (the feed-forward gate `silu(gate) * up` and attention's softmax), and
//! the GELU gate as llama.cpp computes it. In the browser, `exp` runs four lanes at a
//! time, bit for bit as libm's `expf`, which is what `f32::exp` is on wasm32;
//! elsewhere it is `f32::exp` itself.

use std::sync::OnceLock;

use candle_core::cpu::kernels::VecOps;
use half::f16;

/// `silu(gate[i]) * up[i]` for each `i`.
pub fn silu_mul(gate: &[f32], up: &[f32]) -> Vec<f32> {
    let mut out: Vec<f32> = gate.iter().map(|g| -g).collect();
    exp_in_place(&mut out);
    for ((out, g), u) in out.iter_mut().zip(gate).zip(up) {
        *out = g / (1.0 + *out) * u;
    }
    out
}

/// `gelu(gate[i]) * up[i]` for each `i`, GELU's tanh approximation as llama.cpp's
/// CPU backend computes it: through a table of its value at every f16 input (the gate
/// rounded to f16, the result an f16), exact below -10 (0) and above 10 (the gate).
pub fn gelu_mul(gate: &[f32], up: &[f32]) -> Vec<f32> {
    static TABLE: OnceLock<Vec<f16>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=u16::MAX)
            .map(|h| f16::from_f32(gelu(f16::from_bits(h).to_f32())))
            .collect()
    });
    gate.iter()
        .zip(up)
        .map(|(&g, &u)| match g {
            g if g <= -10.0 => 0.0,
            g if g >= 10.0 => g * u,
            g => table[f16::from_f32(g).to_bits() as usize].to_f32() * u,
        })
        .collect()
}

/// GELU, tanh approximation, in f32: `0.5x(1 + tanh(√(2/π)·x·(1 + 0.044715x²)))`.
fn gelu(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    const COEF_A: f32 = 0.044_715;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + COEF_A * x * x)).tanh())
}

/// Softmax of each `width`-long row of `xs`, in place, as candle's
/// `softmax_last_dim` computes it: the row's max, `exp(x - max)`, their sum by
/// candle's own f32 sum, then each divided by it.
pub fn softmax_rows(xs: &mut [f32], width: usize) {
    for row in xs.chunks_exact_mut(width) {
        let mut max = f32::NEG_INFINITY;
        // SAFETY: the row has `width` values, at least one (`chunks_exact_mut` panics
        // on a zero width).
        unsafe { f32::vec_reduce_max(row.as_ptr(), &mut max, width) };
        row.iter_mut().for_each(|x| *x -= max);
        exp_in_place(row);
        let mut sum = 0.0;
        // SAFETY: as above.
        unsafe { f32::vec_reduce_sum(row.as_ptr(), &mut sum, width) };
        row.iter_mut().for_each(|x| *x /= sum);
    }
}

/// `x = x.exp()` for each value, bit for bit.
pub fn exp_in_place(xs: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let xs = lanes::exp_in_place(xs);
    xs.iter_mut().for_each(|x| *x = x.exp());
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    //! libm's `expf` (FreeBSD's `e_expf.c`) in four lanes: every branch computed and
    //! the right one chosen per lane, with the same float operations in the same order.

    use std::arch::wasm32::*;

    const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
    const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
    const P1: f32 = f32::from_bits(0x3e2a_aa8f);
    const P2: f32 = f32::from_bits(0xbb35_5215);

    /// The exp of each whole four of `xs` in place; returns the values left for the
    /// scalar `exp` (the last few, and any four with a NaN or a value of 87.34 or
    /// more, where libm overflows).
    pub fn exp_in_place(xs: &mut [f32]) -> &mut [f32] {
        let whole = xs.len() / 4 * 4;
        let (fours, rest) = xs.split_at_mut(whole);
        for four in fours.chunks_exact_mut(4) {
            let p = four.as_mut_ptr() as *mut v128;
            // SAFETY: four floats are read and written.
            unsafe {
                match exp4(v128_load(p)) {
                    Some(e) => v128_store(p, e),
                    None => four.iter_mut().for_each(|x| *x = x.exp()),
                }
            }
        }
        rest
    }

    /// `expf` of four values below 87.34, none NaN (`None` otherwise).
    #[inline(always)]
    fn exp4(x: v128) -> Option<v128> {
        let hx = v128_and(x, u32x4_splat(0x7fff_ffff));
        let negative = i32x4_shr(x, 31);
        // Below -87.34 (down to -inf) libm goes on into the subnormals, then to zero.
        let taken = v128_or(
            u32x4_lt(hx, u32x4_splat(0x42ae_ac50)),
            v128_and(negative, u32x4_le(hx, u32x4_splat(0x7f80_0000))),
        );
        if !u32x4_all_true(taken) {
            return None;
        }
        // Argument reduction: k = round(x / ln 2) past 1.5 ln 2, ±1 past 0.5 ln 2,
        // else 0 (then hi = x and lo = 0, as these give).
        let half = v128_bitselect(f32x4_splat(-0.5), f32x4_splat(0.5), negative);
        let far = i32x4_trunc_sat_f32x4(f32x4_add(f32x4_mul(f32x4_splat(INV_LN2), x), half));
        let near = v128_or(i32x4_shl(negative, 1), i32x4_splat(1)); // 1 or -1
        let k = v128_bitselect(
            far,
            v128_and(near, u32x4_gt(hx, u32x4_splat(0x3eb1_7218))),
            u32x4_gt(hx, u32x4_splat(0x3f85_1592)),
        );
        let kf = f32x4_convert_i32x4(k);
        let hi = f32x4_sub(x, f32x4_mul(kf, f32x4_splat(LN2_HI)));
        let lo = f32x4_mul(kf, f32x4_splat(LN2_LO));
        let r = f32x4_sub(hi, lo);
        // The primary range: 1 + (r*c / (2 - c) - lo + hi).
        let rr = f32x4_mul(r, r);
        let poly = f32x4_add(f32x4_splat(P1), f32x4_mul(rr, f32x4_splat(P2)));
        let c = f32x4_sub(r, f32x4_mul(rr, poly));
        let q = f32x4_div(f32x4_mul(r, c), f32x4_sub(f32x4_splat(2.0), c));
        let y = f32x4_add(f32x4_splat(1.0), f32x4_add(f32x4_sub(q, lo), hi));
        // scalbnf(y, k), k <= 126 here: y * 2^k while 2^k is a normal float; below
        // 2^-126, y * 2^-102 (exact) * 2^(k + 102), rounded once into the subnormals.
        let pow2 = |k: v128| i32x4_shl(i32x4_add(k, i32x4_splat(0x7f)), 23);
        let normal = f32x4_mul(y, pow2(k));
        let subnormal = f32x4_mul(
            f32x4_mul(y, f32x4_splat(f32::from_bits(0x0c80_0000))),
            pow2(i32x4_add(k, i32x4_splat(102))),
        );
        let scaled = v128_bitselect(subnormal, normal, i32x4_lt(k, i32x4_splat(-126)));
        // x <= -103.97: zero.
        let zero = v128_and(negative, u32x4_ge(hx, u32x4_splat(0x42cf_f1b5)));
        let scaled = v128_andnot(scaled, zero);
        // |x| <= 2^-14: 1 + x.
        let tiny = u32x4_le(hx, u32x4_splat(0x3900_0000));
        Some(v128_bitselect(f32x4_add(f32x4_splat(1.0), x), scaled, tiny))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn silu_mul_is_candles_silu_times_up_bit_for_bit() {
        let gate: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
        let up: Vec<f32> = (0..1000)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.3)
            .collect();
        let want = (Tensor::new(gate.as_slice(), &Device::Cpu)
            .unwrap()
            .silu()
            .unwrap()
            * Tensor::new(up.as_slice(), &Device::Cpu).unwrap())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
        let got = silu_mul(&gate, &up);
        assert!(got
            .iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn softmax_rows_is_candles_softmax_last_dim_bit_for_bit() {
        let (rows, width) = (7, 45);
        let mut xs: Vec<f32> = (0..rows * width)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.173)
            .collect();
        xs[width + 3] = f32::NEG_INFINITY; // a masked position
        let want = Tensor::from_vec(xs.clone(), (rows, width), &Device::Cpu).unwrap();
        let want = candle_nn::ops::softmax_last_dim(&want).unwrap();
        let want = want.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        softmax_rows(&mut xs, width);
        assert!(xs
            .iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(xs[width + 3], 0.0);
    }
}
