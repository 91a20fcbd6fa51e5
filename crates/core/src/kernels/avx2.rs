//! The x86 AVX2 driver every weight format shares: per row eight float lanes (and
//! the Q4_1 min sum), each activation block loaded once for four rows; the formats
//! give only their block step.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use super::blocks::BlockQ8_1;
use super::dot::finish;

/// Whether this CPU has AVX2 and F16C.
pub fn available() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"))
}

/// One row's eight float lanes and its min sum.
#[derive(Clone, Copy)]
pub struct Acc {
    pub lanes: __m256,
    pub summs: f32,
}

/// A weight block format's step on AVX2.
pub trait Step: Sized {
    /// Add the block `x · y` to `acc`, `y8` being `y`'s 32 values loaded.
    ///
    /// # Safety
    /// The CPU must have AVX2 and F16C.
    unsafe fn add(acc: &mut Acc, x: &Self, y: &BlockQ8_1, y8: __m256i);
}

#[inline(always)]
unsafe fn new() -> Acc {
    Acc {
        lanes: _mm256_setzero_ps(),
        summs: 0.0,
    }
}

#[inline(always)]
unsafe fn load(y: &BlockQ8_1) -> __m256i {
    _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i)
}

#[inline(always)]
unsafe fn total(acc: Acc) -> f32 {
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), acc.lanes);
    finish(lanes, acc.summs)
}

/// `xs · ys`.
///
/// # Safety
/// The CPU must have AVX2 and F16C.
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn dot<B: Step>(xs: &[B], ys: &[BlockQ8_1]) -> f32 {
    let mut acc = new();
    for (x, y) in xs.iter().zip(ys) {
        B::add(&mut acc, x, y, load(y));
    }
    total(acc)
}

/// Four weight rows against one activation row.
///
/// # Safety
/// The CPU must have AVX2 and F16C; every row of `ws` must be as long as `ys`.
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn dot4<B: Step>(ws: [&[B]; 4], ys: &[BlockQ8_1]) -> [f32; 4] {
    let mut acc = [new(); 4];
    for (b, y) in ys.iter().enumerate() {
        let y8 = load(y);
        for (acc, w) in acc.iter_mut().zip(ws) {
            B::add(acc, w.get_unchecked(b), y, y8);
        }
    }
    [total(acc[0]), total(acc[1]), total(acc[2]), total(acc[3])]
}
