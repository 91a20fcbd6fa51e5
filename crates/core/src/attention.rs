//! Grouped-query attention over a block's key/value cache, one query row at a time
//! in a fixed order: a row's result is the same bit for bit whether it runs alone (a
//! decode step) or among others (a prompt), so a turn that reuses the cache equals a
//! cold run of the whole conversation.

use crate::activations::softmax_rows;
use crate::kv_cache::KvCache;

/// Attention of `q` (`(heads, seq, head_dim)` row-major, rotated, at positions
/// `pos..pos + seq`), each row over the cached positions up to its own (the last
/// `window` of them in a sliding-window layer); returns `(seq, heads * head_dim)`.
pub(crate) fn attend(
    q: &[f32],
    heads: usize,
    pos: usize,
    cache: &KvCache,
    window: Option<usize>,
) -> Vec<f32> {
    let span = Span { pos, window };
    // The vector loops take heads of a multiple of 32 values (the default model's 64).
    #[cfg(target_arch = "x86_64")]
    if cache.head_dim().is_multiple_of(32) && is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { avx2::attend(q, heads, span, cache) };
    }
    attend_with(q, heads, span, cache, dot, weigh)
}

/// Where a query's keys are: its sequence's rows start at position `pos`, and each
/// sees the positions up to its own, or the last `window` of them.
#[derive(Clone, Copy)]
struct Span {
    pos: usize,
    window: Option<usize>,
}

impl Span {
    /// The positions row `i` attends to.
    fn keys(&self, i: usize) -> std::ops::Range<usize> {
        let end = self.pos + i + 1;
        self.window.map_or(0, |w| end.saturating_sub(w))..end
    }
}

/// [`attend`] with its two inner loops: `dot(query, key)`, and `weigh(y, scores,
/// values)` adding each score times its value row to `y`.
#[inline(always)]
fn attend_with(
    q: &[f32],
    heads: usize,
    span: Span,
    cache: &KvCache,
    dot: impl Fn(&[f32], &[f32]) -> f32,
    weigh: impl Fn(&mut [f32], &[f32], &[f32]),
) -> Vec<f32> {
    let hd = cache.head_dim();
    let group = heads / cache.kv_heads();
    let seq = q.len() / (heads * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = vec![0f32; seq * heads * hd];
    let mut scores = Vec::with_capacity(span.pos + seq);
    for h in 0..heads {
        let (keys, values) = cache.head(h / group, span.pos + seq);
        for i in 0..seq {
            let query = &q[(h * seq + i) * hd..][..hd];
            let seen = span.keys(i);
            let (keys, values) = (
                &keys[seen.start * hd..seen.end * hd],
                &values[seen.start * hd..seen.end * hd],
            );
            scores.clear();
            // A plain loop, so `dot` is inlined into the caller.
            for k in keys.chunks_exact(hd) {
                scores.push(dot(query, k) * scale);
            }
            softmax_rows(&mut scores, seen.len());
            weigh(&mut out[(i * heads + h) * hd..][..hd], &scores, values);
        }
    }
    out
}

/// `a · b` in eight lanes (vectorised, in a fixed order) added pairwise.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(a, b)| a * b)
        .sum();
    let mut l = [0f32; 8];
    for (a, b) in a8.zip(b8) {
        for k in 0..8 {
            l[k] += a[k] * b[k];
        }
    }
    (((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))) + tail
}

/// `y += p * v` for each score `p` and value row `v` (rows of `y.len()`), in order.
#[inline(always)]
fn weigh(y: &mut [f32], scores: &[f32], values: &[f32]) {
    for (p, v) in scores.iter().zip(values.chunks_exact(y.len())) {
        y.iter_mut().zip(v).for_each(|(y, v)| *y += p * v);
    }
}

/// [`attend`] in 256-bit vectors, with the same float operations in the same order
/// (never fused), so the same bits. The default x86_64 build's code is 128-bit
/// (SSE2, and LLVM paired the eight-lane dot two lanes at a time): this made native
/// decode about 6% faster (interleaved medians, 1 thread; attention went from ~10% to
/// ~6.5% of a run's time).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Span;
    use crate::kv_cache::KvCache;

    /// [`super::attend`] for heads of a multiple of 32 values.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn attend(q: &[f32], heads: usize, span: Span, cache: &KvCache) -> Vec<f32> {
        super::attend_with(
            q,
            heads,
            span,
            cache,
            |a, b| dot(a, b),
            |y, p, v| weigh(y, p, v),
        )
    }

    /// [`super::dot`] of rows of a multiple of 8 values, its lanes in one vector.
    #[inline(always)]
    unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let mut l = _mm256_setzero_ps();
        for (a, b) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
            let (a, b) = (_mm256_loadu_ps(a.as_ptr()), _mm256_loadu_ps(b.as_ptr()));
            l = _mm256_add_ps(l, _mm256_mul_ps(a, b));
        }
        // [l0 + l4, l1 + l5, l2 + l6, l3 + l7], then [(l0 + l4) + (l2 + l6), ..].
        let l = _mm_add_ps(_mm256_castps256_ps128(l), _mm256_extractf128_ps(l, 1));
        let l = _mm_add_ps(l, _mm_movehl_ps(l, l));
        _mm_cvtss_f32(_mm_add_ss(l, _mm_movehdup_ps(l)))
    }

    /// [`super::weigh`] for rows of a multiple of 32 values, 32 of `y` at a time
    /// kept in four vectors over all the rows.
    #[inline(always)]
    unsafe fn weigh(y: &mut [f32], scores: &[f32], values: &[f32]) {
        let hd = y.len();
        for (c, y) in y.chunks_exact_mut(32).enumerate() {
            let mut acc: [__m256; 4] =
                std::array::from_fn(|k| _mm256_loadu_ps(y[8 * k..].as_ptr()));
            for (p, v) in scores.iter().zip(values.chunks_exact(hd)) {
                let (p, v) = (_mm256_set1_ps(*p), &v[32 * c..][..32]);
                for (k, acc) in acc.iter_mut().enumerate() {
                    *acc =
                        _mm256_add_ps(*acc, _mm256_mul_ps(p, _mm256_loadu_ps(v[8 * k..].as_ptr())));
                }
            }
            for (k, acc) in acc.iter().enumerate() {
                _mm256_storeu_ps(y[8 * k..].as_mut_ptr(), *acc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made-up values in -1..1.
    fn values(n: usize, salt: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 37 + salt) % 101) as f32 / 50.0 - 1.0)
            .collect()
    }

    #[test]
    fn rows_alone_equal_rows_in_a_batch_and_the_definition() {
        let (heads, kv_heads, hd, seq) = (4, 2, 12, 5);
        let k = values(kv_heads * seq * hd, 1);
        let v = values(kv_heads * seq * hd, 2);
        let q = values(heads * seq * hd, 3);
        let mut cache = KvCache::new(kv_heads, hd);
        cache.write(&k, &v, 0, 100);
        let batch = attend(&q, heads, 0, &cache, None);
        for i in 0..seq {
            // Row i alone, at its position, with the cache holding exactly 0..=i.
            let row: Vec<f32> = (0..heads)
                .flat_map(|h| q[(h * seq + i) * hd..][..hd].to_vec())
                .collect();
            let alone = attend(&row, heads, i, &cache, None);
            assert_eq!(alone, batch[i * heads * hd..][..heads * hd]);
            // The definition: softmax(q·k / sqrt(hd)) weighted values, in f64.
            for h in 0..heads {
                let g = h / (heads / kv_heads);
                let at = |t: &[f32], j: usize, d: usize| t[(g * seq + j) * hd + d] as f64;
                let s: Vec<f64> = (0..=i)
                    .map(|j| {
                        (0..hd)
                            .map(|d| row[h * hd + d] as f64 * at(&k, j, d))
                            .sum::<f64>()
                    })
                    .map(|s| (s / (hd as f64).sqrt()).exp())
                    .collect();
                let total: f64 = s.iter().sum();
                for d in 0..hd {
                    let want: f64 = (0..=i).map(|j| s[j] / total * at(&v, j, d)).sum();
                    assert!(
                        (alone[h * hd + d] as f64 - want).abs() < 1e-5,
                        "row {i} head {h}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_sliding_window_sees_only_its_last_positions() {
        let (heads, kv_heads, hd, seq, window) = (2, 1, 8, 7, 3);
        let k = values(kv_heads * seq * hd, 4);
        let v = values(kv_heads * seq * hd, 5);
        let q = values(heads * hd, 6);
        let mut all = KvCache::new(kv_heads, hd);
        all.write(&k, &v, 0, 100);
        // The same last `window` keys and values, alone in a cache of their own.
        let mut last = KvCache::new(kv_heads, hd);
        let tail = (seq - window) * hd..seq * hd;
        last.write(&k[tail.clone()], &v[tail], 0, 100);
        let windowed = attend(&q, heads, seq - 1, &all, Some(window));
        assert_eq!(windowed, attend(&q, heads, window - 1, &last, None));
        assert_ne!(windowed, attend(&q, heads, seq - 1, &all, None));
    }

    /// The 256-bit attention equals the portable one bit for bit (64-value heads, as
    /// the default model's, the width it takes).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_attention_equals_the_portable_one() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let (heads, kv_heads, hd, seq) = (6, 2, 64, 9);
        let mut cache = KvCache::new(kv_heads, hd);
        let kv = |salt| values(kv_heads * seq * hd, salt);
        cache.write(&kv(1), &kv(2), 0, 100);
        let q = values(heads * 4 * hd, 3);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for window in [None, Some(3)] {
            let span = Span { pos: 5, window };
            let portable = attend_with(&q, heads, span, &cache, dot, weigh);
            // SAFETY: the CPU has AVX2.
            let fast = unsafe { avx2::attend(&q, heads, span, &cache) };
            assert_eq!(bits(&fast), bits(&portable));
        }
    }
}
