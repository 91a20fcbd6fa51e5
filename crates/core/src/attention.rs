//! Grouped-query attention over a block's key/value cache, one query row at a time
//! in a fixed order: a row's result is the same bit for bit whether it runs alone (a
//! decode step) or among others (a prompt), so a turn that reuses the cache equals a
//! cold run of the whole conversation.

use crate::activations::softmax_rows;
use crate::kv_cache::KvCache;

/// Attention of `q` (`(heads, seq, head_dim)` row-major, rotated, at positions
/// `pos..pos + seq`), each row over the cached positions up to its own; returns
/// `(seq, heads * head_dim)`.
pub(crate) fn attend(q: &[f32], heads: usize, pos: usize, cache: &KvCache) -> Vec<f32> {
    let hd = cache.head_dim();
    let group = heads / cache.kv_heads();
    let seq = q.len() / (heads * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = vec![0f32; seq * heads * hd];
    let mut scores = Vec::with_capacity(pos + seq);
    for h in 0..heads {
        let (keys, values) = cache.head(h / group, pos + seq);
        for i in 0..seq {
            let query = &q[(h * seq + i) * hd..][..hd];
            let len = pos + i + 1;
            scores.clear();
            scores.extend(
                keys.chunks_exact(hd)
                    .take(len)
                    .map(|k| dot(query, k) * scale),
            );
            softmax_rows(&mut scores, len);
            let y = &mut out[(i * heads + h) * hd..][..hd];
            for (p, v) in scores.iter().zip(values.chunks_exact(hd)) {
                y.iter_mut().zip(v).for_each(|(y, v)| *y += p * v);
            }
        }
    }
    out
}

/// `a · b` in eight lanes (vectorised, in a fixed order) added pairwise.
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
        let batch = attend(&q, heads, 0, &cache);
        for i in 0..seq {
            // Row i alone, at its position, with the cache holding exactly 0..=i.
            let row: Vec<f32> = (0..heads)
                .flat_map(|h| q[(h * seq + i) * hd..][..hd].to_vec())
                .collect();
            let alone = attend(&row, heads, i, &cache);
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
}
