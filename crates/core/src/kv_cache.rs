//! The key/value cache of one transformer block: tensors allocated ahead in large
//! steps, new positions written in place, attention reading only the filled part.

use candle_core::{DType, Device, Tensor};

use crate::error::Result;

/// Positions added to the capacity at least whenever it runs out.
const GROW: usize = 256;

/// Keys and values, each `(kv_heads, capacity, head_dim)`.
#[derive(Default)]
pub(crate) struct KvCache {
    buffers: Option<(Tensor, Tensor)>,
}

impl KvCache {
    /// Write `k` and `v` (`(kv_heads, seq, head_dim)`) at positions `pos..pos + seq`
    /// and return the keys and values of positions `0..pos + seq`. Positions `0..pos`
    /// keep what was written before; anything after `pos + seq` is stale. `limit`
    /// caps the capacity (the context window). After an error the cache may have lost
    /// its contents: start again at position 0.
    pub fn write(
        &mut self,
        k: &Tensor,
        v: &Tensor,
        pos: usize,
        limit: usize,
    ) -> Result<(Tensor, Tensor)> {
        let (kv_heads, seq, head_dim) = k.dims3()?;
        let len = pos + seq;
        let (cache_k, cache_v) = match self.buffers.take() {
            Some(buffers) if buffers.0.dim(1)? >= len => buffers,
            old => {
                let capacity = old.as_ref().map_or(0, |(k, _)| k.dims()[1]);
                let grown = len
                    .next_multiple_of(GROW)
                    .max(2 * capacity)
                    .min(limit.max(len));
                let alloc = || Tensor::zeros((kv_heads, grown, head_dim), DType::F32, &Device::Cpu);
                let (new_k, new_v) = (alloc()?, alloc()?);
                if let (Some((old_k, old_v)), true) = (old, pos > 0) {
                    new_k.slice_set(&old_k.narrow(1, 0, pos)?.contiguous()?, 1, 0)?;
                    new_v.slice_set(&old_v.narrow(1, 0, pos)?.contiguous()?, 1, 0)?;
                }
                (new_k, new_v)
            }
        };
        cache_k.slice_set(&k.contiguous()?, 1, pos)?;
        cache_v.slice_set(&v.contiguous()?, 1, pos)?;
        let filled = (cache_k.narrow(1, 0, len)?, cache_v.narrow(1, 0, len)?);
        self.buffers = Some((cache_k, cache_v));
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(heads: usize, seq: usize, start: f32) -> Tensor {
        let data: Vec<f32> = (0..heads * seq * 2).map(|i| start + i as f32).collect();
        Tensor::from_vec(data, (heads, seq, 2), &Device::Cpu).unwrap()
    }

    fn capacity(cache: &KvCache) -> usize {
        cache.buffers.as_ref().unwrap().0.dims()[1]
    }

    #[test]
    fn writes_in_place_grows_and_rewinds() {
        let mut cache = KvCache::default();
        let a = filled(3, 5, 0.0);
        let (k, _) = cache.write(&a, &a, 0, 1000).unwrap();
        assert_eq!(k.dims(), [3, 5, 2]);
        assert_eq!(capacity(&cache), GROW);
        // Grow past the first step: the old positions move along.
        let b = filled(3, GROW, 100.0);
        let (k, v) = cache.write(&b, &b, 5, 1000).unwrap();
        let want = Tensor::cat(&[&a, &b], 1).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(k.to_vec3::<f32>().unwrap(), want);
        assert_eq!(v.to_vec3::<f32>().unwrap(), want);
        assert_eq!(capacity(&cache), 2 * GROW);
        // Back to position 2: later positions are replaced.
        let c = filled(3, 1, -7.0);
        let (k, _) = cache.write(&c, &c, 2, 1000).unwrap();
        let want = Tensor::cat(&[&a.narrow(1, 0, 2).unwrap(), &c], 1).unwrap();
        assert_eq!(k.to_vec3::<f32>().unwrap(), want.to_vec3::<f32>().unwrap());
        // Never beyond the limit.
        let mut small = KvCache::default();
        small.write(&a, &a, 0, 7).unwrap();
        assert_eq!(capacity(&small), 7);
    }
}
