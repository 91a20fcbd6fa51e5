//! A dense layer's f32 weights in panels of [`WIDTH`] rows, as its product reads them:
//! panel `p` holds, column after column, the values of rows `WIDTH·p..WIDTH·(p + 1)`
//! side by side (the last panel padded with zero rows). The product `x · Wᵀ` takes a
//! few activation rows per pass: per column, the panel's `WIDTH` weights are loaded
//! once and each row's value is multiplied against all of them, so every load feeds
//! several rows' sums, and each output lane sums its own row with no horizontal
//! gathering. Sums run in `WIDTH` lanes per activation row, as many rows side by side
//! as keep the target's registers busy without spilling them (x86 with AVX-512 or
//! AVX2 and FMA picks its code at run time).

use crate::kernels::PARALLEL;

/// Weight rows per panel: one AVX-512 vector, two of AVX2's, four of simd128's.
const WIDTH: usize = 16;

/// Panels per parallel task.
const PANELS_PER_TASK: usize = 8;

/// f32 weights, `(rows, cols)`, in panels.
pub(super) struct Panels {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

impl Panels {
    /// The panels of `w`, `(rows, cols)` row-major.
    pub(super) fn new(w: &[f32], rows: usize, cols: usize) -> Self {
        let mut values = vec![0f32; rows.div_ceil(WIDTH) * cols * WIDTH];
        for (r, row) in w.chunks_exact(cols).enumerate() {
            let panel = &mut values[r / WIDTH * cols * WIDTH..][..cols * WIDTH];
            for (column, &v) in panel.chunks_exact_mut(WIDTH).zip(row) {
                column[r % WIDTH] = v;
            }
        }
        Panels { rows, cols, values }
    }

    /// `x · Wᵀ` for `x` of `(n, cols)` row-major: `(n, rows)`.
    pub(super) fn product(&self, x: &[f32]) -> Vec<f32> {
        let (rows, cols) = (self.rows, self.cols);
        let n = x.len() / cols;
        if n == 0 {
            return Vec::new();
        }
        // Each panel's outputs for every activation row, `(panels, n, WIDTH)`.
        let mut by_panel = vec![0f32; self.values.len() / cols * n];
        let task = |(panels, out): (&[f32], &mut [f32])| {
            for (panel, out) in panels
                .chunks_exact(cols * WIDTH)
                .zip(out.chunks_exact_mut(n * WIDTH))
            {
                panel_product(panel, x, cols, out);
            }
        };
        let (panels, outs) = (
            self.values.chunks(PANELS_PER_TASK * cols * WIDTH),
            by_panel.chunks_mut(PANELS_PER_TASK * n * WIDTH),
        );
        if PARALLEL {
            use rayon::prelude::*;
            let (panels, outs): (Vec<_>, Vec<_>) = (panels.collect(), outs.collect());
            panels.into_par_iter().zip(outs).for_each(task);
        } else {
            panels.zip(outs).for_each(task);
        }
        let mut y = vec![0f32; n * rows];
        for (p, out) in by_panel.chunks_exact(n * WIDTH).enumerate() {
            let (first, width) = (p * WIDTH, WIDTH.min(rows - p * WIDTH));
            for (y, out) in y.chunks_exact_mut(rows).zip(out.chunks_exact(WIDTH)) {
                y[first..][..width].copy_from_slice(&out[..width]);
            }
        }
        y
    }
}

/// One panel times every row of `x` into `out` (`(n, WIDTH)`), on the widest vectors
/// the CPU has.
fn panel_product(panel: &[f32], x: &[f32], cols: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512 F (which implies FMA).
            return unsafe { x86::avx512(panel, x, cols, out) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { x86::avx2(panel, x, cols, out) };
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: simd128 is on.
    return unsafe { wasm::simd128(panel, x, cols, out) };
    #[allow(unreachable_code)]
    // SAFETY: plain Rust.
    unsafe {
        panel_on::<[f32; WIDTH], 1>(panel, x, cols, out)
    }
}

/// `WIDTH` lanes of f32 sums in some target's vectors.
trait Sixteen: Copy {
    unsafe fn zero() -> Self;
    /// `WIDTH` values from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// `self + v · w` in every lane.
    unsafe fn mul_add(self, v: f32, w: Self) -> Self;
    /// Into `p`'s `WIDTH` values.
    unsafe fn store(self, p: *mut f32);
}

impl Sixteen for [f32; WIDTH] {
    #[inline(always)]
    unsafe fn zero() -> Self {
        [0.0; WIDTH]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        p.cast::<Self>().read_unaligned()
    }
    #[inline(always)]
    unsafe fn mul_add(mut self, v: f32, w: Self) -> Self {
        self.iter_mut().zip(w).for_each(|(s, w)| *s += v * w);
        self
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        p.cast::<Self>().write_unaligned(self)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{panel_on, Sixteen};

    /// Eight activation rows side by side: eight vectors of sums.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(panel: &[f32], x: &[f32], cols: usize, out: &mut [f32]) {
        panel_on::<__m512, 8>(panel, x, cols, out);
    }

    /// Four activation rows side by side: eight vectors of sums.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(panel: &[f32], x: &[f32], cols: usize, out: &mut [f32]) {
        panel_on::<[__m256; 2], 4>(panel, x, cols, out);
    }

    impl Sixteen for __m512 {
        #[inline(always)]
        unsafe fn zero() -> Self {
            _mm512_setzero_ps()
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            _mm512_loadu_ps(p)
        }
        #[inline(always)]
        unsafe fn mul_add(self, v: f32, w: Self) -> Self {
            _mm512_fmadd_ps(_mm512_set1_ps(v), w, self)
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            _mm512_storeu_ps(p, self)
        }
    }

    impl Sixteen for [__m256; 2] {
        #[inline(always)]
        unsafe fn zero() -> Self {
            [_mm256_setzero_ps(); 2]
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))]
        }
        #[inline(always)]
        unsafe fn mul_add(self, v: f32, w: Self) -> Self {
            let v = _mm256_set1_ps(v);
            [0, 1].map(|i| _mm256_fmadd_ps(v, w[i], self[i]))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            _mm256_storeu_ps(p, self[0]);
            _mm256_storeu_ps(p.add(8), self[1]);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use std::arch::wasm32::*;

    use super::{panel_on, Sixteen};

    /// Two activation rows side by side: eight vectors of sums (four rows would spill
    /// the sixteen registers a browser gives simd128 on x86).
    #[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
    pub(super) unsafe fn simd128(panel: &[f32], x: &[f32], cols: usize, out: &mut [f32]) {
        panel_on::<Sixteen4, 2>(panel, x, cols, out);
    }

    /// Four simd128 vectors.
    #[derive(Clone, Copy)]
    struct Sixteen4([v128; 4]);

    impl Sixteen for Sixteen4 {
        #[inline(always)]
        unsafe fn zero() -> Self {
            Sixteen4([f32x4_splat(0.0); 4])
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Sixteen4([0, 1, 2, 3].map(|i| v128_load(p.add(4 * i).cast())))
        }
        #[inline(always)]
        unsafe fn mul_add(self, v: f32, w: Self) -> Self {
            let v = f32x4_splat(v);
            Sixteen4([0, 1, 2, 3].map(|i| madd(v, w.0[i], self.0[i])))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            for (i, v) in self.0.into_iter().enumerate() {
                v128_store(p.add(4 * i).cast(), v);
            }
        }
    }

    /// `a · b + c`, fused where relaxed SIMD allows.
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(feature = "relaxed-simd")]
        return f32x4_relaxed_madd(a, b, c);
        #[cfg(not(feature = "relaxed-simd"))]
        f32x4_add(f32x4_mul(a, b), c)
    }
}

/// [`panel_product`] taking `R` activation rows per pass (the last pass fewer);
/// inlined into a caller with the target features `V` needs.
#[inline(always)]
unsafe fn panel_on<V: Sixteen, const R: usize>(
    panel: &[f32],
    x: &[f32],
    cols: usize,
    out: &mut [f32],
) {
    let mut xs = x.chunks_exact(R * cols);
    let mut outs = out.chunks_exact_mut(R * WIDTH);
    for (x, out) in (&mut xs).zip(&mut outs) {
        pass::<V, R>(panel, x, cols, out);
    }
    let (x, out) = (xs.remainder(), outs.into_remainder());
    match x.len() / cols {
        0 => {}
        1 => pass::<V, 1>(panel, x, cols, out),
        2 => pass::<V, 2>(panel, x, cols, out),
        3 => pass::<V, 3>(panel, x, cols, out),
        4 => pass::<V, 4>(panel, x, cols, out),
        5 => pass::<V, 5>(panel, x, cols, out),
        6 => pass::<V, 6>(panel, x, cols, out),
        _ => pass::<V, 7>(panel, x, cols, out),
    }
}

/// The panel times `R` activation rows (`x`, `(R, cols)`) into `out` (`(R, WIDTH)`).
#[inline(always)]
unsafe fn pass<V: Sixteen, const R: usize>(panel: &[f32], x: &[f32], cols: usize, out: &mut [f32]) {
    assert!(panel.len() == cols * WIDTH && x.len() == R * cols && out.len() == R * WIDTH);
    let mut sums = [V::zero(); R];
    for c in 0..cols {
        let w = V::load(panel.as_ptr().add(c * WIDTH));
        for (r, sums) in sums.iter_mut().enumerate() {
            *sums = sums.mul_add(*x.get_unchecked(r * cols + c), w);
        }
    }
    for (r, sums) in sums.iter().enumerate() {
        sums.store(out.as_mut_ptr().add(r * WIDTH));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product equals the plain definition (in f64) for every count of activation
    /// rows up to two full passes, and a row count that leaves a partial panel.
    #[test]
    fn the_product_is_the_definition() {
        let (rows, cols) = (37, 48);
        let value = |i: usize, salt: usize| ((i * 37 + salt) % 101) as f32 / 50.0 - 1.0;
        let w: Vec<f32> = (0..rows * cols).map(|i| value(i, 1)).collect();
        let panels = Panels::new(&w, rows, cols);
        for n in 0..=17 {
            let x: Vec<f32> = (0..n * cols).map(|i| value(i, 2)).collect();
            let y = panels.product(&x);
            assert_eq!(y.len(), n * rows);
            for i in 0..n {
                for r in 0..rows {
                    let want: f64 = (0..cols)
                        .map(|c| x[i * cols + c] as f64 * w[r * cols + c] as f64)
                        .sum();
                    assert!(
                        (y[i * rows + r] as f64 - want).abs() < 1e-4,
                        "n {n} row {i}"
                    );
                }
            }
        }
    }
}
