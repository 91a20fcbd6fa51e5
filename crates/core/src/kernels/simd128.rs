//! The wasm simd128 driver every weight format shares: per row eight float lanes (as
//! two halves) and the Q4_1 min sum, each activation block prepared once for four
//! rows; the formats give only how they prepare it and their block step.

use std::arch::wasm32::*;

use super::blocks::BlockQ8_1;
use super::dot::finish;

/// One row's eight float lanes and its min sum.
#[derive(Clone, Copy)]
pub struct Acc {
    lo: v128,
    hi: v128,
    pub summs: f32,
}

impl Acc {
    fn new() -> Self {
        Acc {
            lo: f32x4_splat(0.0),
            hi: f32x4_splat(0.0),
            summs: 0.0,
        }
    }

    /// Add the block's eight sums of four (`low` lanes 0-3, `high` lanes 4-7)
    /// scaled by `d`.
    #[inline(always)]
    pub fn add_sums(&mut self, d: f32, low: v128, high: v128) {
        let d = f32x4_splat(d);
        self.lo = f32x4_add(self.lo, f32x4_mul(d, f32x4_convert_i32x4(low)));
        self.hi = f32x4_add(self.hi, f32x4_mul(d, f32x4_convert_i32x4(high)));
    }

    fn total(self) -> f32 {
        let mut lanes = [0f32; 8];
        // SAFETY: eight floats are written into eight.
        unsafe {
            v128_store(lanes.as_mut_ptr() as *mut v128, self.lo);
            v128_store(lanes.as_mut_ptr().add(4) as *mut v128, self.hi);
        }
        finish(lanes, self.summs)
    }
}

/// A weight block format's step on simd128.
pub trait Step: Sized {
    /// An activation block's values as this format wants them, once for all rows.
    fn widen(y: &BlockQ8_1) -> [v128; 4];
    /// Add the block `x · y` to `acc`, `y16` being `widen(y)`.
    fn add(acc: &mut Acc, x: &Self, y: &BlockQ8_1, y16: &[v128; 4]);
}

/// `xs · ys`.
pub fn dot<B: Step>(xs: &[B], ys: &[BlockQ8_1]) -> f32 {
    let mut acc = Acc::new();
    for (x, y) in xs.iter().zip(ys) {
        B::add(&mut acc, x, y, &B::widen(y));
    }
    acc.total()
}

/// Four weight rows against one activation row.
///
/// # Safety
/// Every row of `ws` must be as long as `ys`.
pub unsafe fn dot4<B: Step>(ws: [&[B]; 4], ys: &[BlockQ8_1]) -> [f32; 4] {
    let mut acc = [Acc::new(); 4];
    for (b, y) in ys.iter().enumerate() {
        let y16 = B::widen(y);
        for (acc, w) in acc.iter_mut().zip(ws) {
            B::add(acc, w.get_unchecked(b), y, &y16);
        }
    }
    acc.map(Acc::total)
}
