//! The key/value cache of one transformer block: buffers allocated ahead in large
//! steps, new positions written in place, attention reading only the filled part.

/// Positions added to the capacity at least whenever it runs out.
const GROW: usize = 256;

/// Keys and values, each `(kv_heads, capacity, head_dim)` row-major.
pub(crate) struct KvCache {
    keys: Vec<f32>,
    values: Vec<f32>,
    kv_heads: usize,
    head_dim: usize,
    capacity: usize,
}

impl KvCache {
    /// An empty cache for `kv_heads` heads of `head_dim` values.
    pub fn new(kv_heads: usize, head_dim: usize) -> Self {
        KvCache {
            keys: Vec::new(),
            values: Vec::new(),
            kv_heads,
            head_dim,
            capacity: 0,
        }
    }

    /// Write `k` and `v` (`(kv_heads, seq, head_dim)` row-major) at positions
    /// `pos..pos + seq`. Positions `0..pos` keep what was written before; anything
    /// after `pos + seq` is stale. `limit` caps the capacity (the context window).
    pub fn write(&mut self, k: &[f32], v: &[f32], pos: usize, limit: usize) {
        let row = self.head_dim;
        let seq = k.len() / (self.kv_heads * row);
        let len = pos + seq;
        if len > self.capacity {
            let grown = len
                .next_multiple_of(GROW)
                .max(2 * self.capacity)
                .min(limit.max(len));
            self.keys = self.moved(&self.keys, pos, grown);
            self.values = self.moved(&self.values, pos, grown);
            self.capacity = grown;
        }
        for h in 0..self.kv_heads {
            let at = (h * self.capacity + pos) * row;
            let new = h * seq * row..(h + 1) * seq * row;
            self.keys[at..][..seq * row].copy_from_slice(&k[new.clone()]);
            self.values[at..][..seq * row].copy_from_slice(&v[new]);
        }
    }

    /// Key/value heads.
    pub fn kv_heads(&self) -> usize {
        self.kv_heads
    }

    /// Values per head and position.
    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// Head `h`'s keys and values at positions `0..len`, each `(len, head_dim)`.
    pub fn head(&self, h: usize, len: usize) -> (&[f32], &[f32]) {
        let at = h * self.capacity * self.head_dim;
        let span = at..at + len * self.head_dim;
        (&self.keys[span.clone()], &self.values[span])
    }

    /// `buffer`'s first `pos` positions of each head in a buffer of `capacity`.
    fn moved(&self, buffer: &[f32], pos: usize, capacity: usize) -> Vec<f32> {
        let row = self.head_dim;
        let mut moved = vec![0f32; self.kv_heads * capacity * row];
        if !buffer.is_empty() {
            for h in 0..self.kv_heads {
                moved[h * capacity * row..][..pos * row]
                    .copy_from_slice(&buffer[h * self.capacity * row..][..pos * row]);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(heads, seq, 2)` values counting up from `start`.
    fn filled(heads: usize, seq: usize, start: f32) -> Vec<f32> {
        (0..heads * seq * 2).map(|i| start + i as f32).collect()
    }

    /// Head `h`'s positions `from..to` of `(heads, seq, 2)` values.
    fn of(values: &[f32], seq: usize, h: usize, from: usize, to: usize) -> Vec<f32> {
        values[(h * seq + from) * 2..(h * seq + to) * 2].to_vec()
    }

    #[test]
    fn writes_in_place_grows_and_rewinds() {
        let mut cache = KvCache::new(3, 2);
        let a = filled(3, 5, 0.0);
        cache.write(&a, &a, 0, 1000);
        assert_eq!(cache.capacity, GROW);
        assert_eq!(cache.head(1, 5).0, of(&a, 5, 1, 0, 5));
        // Grow past the first step: the old positions move along.
        let b = filled(3, GROW, 100.0);
        cache.write(&b, &b, 5, 1000);
        assert_eq!(cache.capacity, 2 * GROW);
        for h in 0..3 {
            let (k, v) = cache.head(h, 5 + GROW);
            let want = [of(&a, 5, h, 0, 5), of(&b, GROW, h, 0, GROW)].concat();
            assert_eq!((k, v), (&want[..], &want[..]));
        }
        // Back to position 2: later positions are replaced.
        let c = filled(3, 1, -7.0);
        cache.write(&c, &c, 2, 1000);
        let want = [of(&a, 5, 2, 0, 2), of(&c, 1, 2, 0, 1)].concat();
        assert_eq!(cache.head(2, 3).0, want);
        // Never beyond the limit.
        let mut small = KvCache::new(3, 2);
        small.write(&a, &a, 0, 7);
        assert_eq!(small.capacity, 7);
    }
}
