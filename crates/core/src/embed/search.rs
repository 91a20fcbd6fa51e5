//! Semantic search over unit vectors: ranking candidates by cosine similarity (the
//! dot product of unit vectors), and an index of vectors by id that one encoder
//! made, kept as one flat array so that it saves and restores as it is. Its sums in
//! eight lanes serve the encoder's attention and LayerNorm too.

use crate::error::{Error, Result};

/// The `k` best of `scores` as `(position, score)`, best first (ties: the earlier
/// first). The best `k` are selected before they are sorted, so a search over many
/// vectors sorts only its results.
pub fn top_k(scores: impl IntoIterator<Item = f32>, k: usize) -> Vec<(usize, f32)> {
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
    if k == 0 {
        return Vec::new();
    }
    if k < ranked.len() {
        ranked.select_nth_unstable_by(k - 1, order);
        ranked.truncate(k);
    }
    ranked.sort_by(order);
    ranked
}

/// Lanes of [`dot`]'s partial sums: enough independent sums for the compiler to
/// keep them in SIMD registers (two of simd128's, one of AVX2's).
const LANES: usize = 8;

/// The dot product of two vectors of one length (their cosine, for unit vectors),
/// summed in [`LANES`] partial sums so that it runs on SIMD.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a_lanes, b_lanes) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = (a_lanes.remainder().iter())
        .zip(b_lanes.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut sums = [0f32; LANES];
    for (x, y) in a_lanes.zip(b_lanes) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `Σ f(x)` over `xs`, in [`LANES`] partial sums as [`dot`] (one running sum would
/// wait for each addition in turn).
pub(super) fn sum_of(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let lanes = xs.chunks_exact(LANES);
    let tail: f32 = lanes.remainder().iter().map(|&x| f(x)).sum();
    let mut sums = [0f32; LANES];
    for xs in lanes {
        for lane in 0..LANES {
            sums[lane] += f(xs[lane]);
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Vectors by id, all made by one encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorIndex {
    model: String,
    dimensions: usize,
    ids: Vec<String>,
    /// `ids.len()` vectors of `dimensions`, one after another.
    vectors: Vec<f32>,
}

impl VectorIndex {
    /// An empty index for vectors of `dimensions` made by `model`.
    pub fn new(model: &str, dimensions: usize) -> Self {
        VectorIndex {
            model: model.into(),
            dimensions,
            ids: Vec::new(),
            vectors: Vec::new(),
        }
    }

    /// An index as [`VectorIndex::ids`] and [`VectorIndex::vectors`] saved it;
    /// `invalid_request` when they do not fit each other.
    pub fn restore(
        model: &str,
        dimensions: usize,
        ids: Vec<String>,
        vectors: Vec<f32>,
    ) -> Result<Self> {
        if dimensions == 0 || vectors.len() != ids.len() * dimensions {
            return Err(Error::InvalidRequest(format!(
                "a saved index of {} ids needs {} values ({dimensions} each), not {}",
                ids.len(),
                ids.len() * dimensions,
                vectors.len()
            )));
        }
        Ok(VectorIndex {
            model: model.into(),
            dimensions,
            ids,
            vectors,
        })
    }

    /// `invalid_request` unless the vectors to come are `model`'s: vectors of two
    /// models are never mixed.
    pub fn check_model(&self, model: &str) -> Result<()> {
        match model == self.model {
            true => Ok(()),
            false => Err(Error::InvalidRequest(format!(
                "this index holds vectors of {}; {model}'s cannot go with them (make a \
                 new index for it)",
                self.model
            ))),
        }
    }

    /// Store `vector` under `id` (replacing what `id` had).
    pub fn add(&mut self, id: &str, vector: &[f32]) -> Result<()> {
        if vector.len() != self.dimensions {
            return Err(Error::InvalidRequest(format!(
                "a vector of {} values in an index of {}",
                vector.len(),
                self.dimensions
            )));
        }
        match self.position(id) {
            Some(i) => {
                self.vectors[i * self.dimensions..][..self.dimensions].copy_from_slice(vector)
            }
            None => {
                self.ids.push(id.into());
                self.vectors.extend_from_slice(vector);
            }
        }
        Ok(())
    }

    /// Remove `id`; whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(i) = self.position(id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        self.ids.swap_remove(i);
        let d = self.dimensions;
        self.vectors.copy_within(last * d..(last + 1) * d, i * d);
        self.vectors.truncate(last * d);
        true
    }

    /// The `k` ids most like `query` with their scores, best first.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(&str, f32)>> {
        if query.len() != self.dimensions {
            return Err(Error::InvalidRequest(format!(
                "a query of {} values in an index of {}",
                query.len(),
                self.dimensions
            )));
        }
        let scores = self
            .vectors
            .chunks_exact(self.dimensions)
            .map(|v| dot(query, v));
        Ok(top_k(scores, k)
            .into_iter()
            .map(|(i, score)| (self.ids[i].as_str(), score))
            .collect())
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|known| known == id)
    }

    /// The model whose vectors these are.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Values per vector.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The ids, in the order of [`VectorIndex::vectors`].
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The vectors, one after another.
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_come_first_and_ties_keep_their_order() {
        assert_eq!(
            top_k([0.1, 0.9, 0.5, 0.9], 3),
            [(1, 0.9), (3, 0.9), (2, 0.5)]
        );
        assert_eq!(top_k([0.3], 5), [(0, 0.3)]);
        assert_eq!(top_k([0.3], 0), []);
        let many: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 1000) as f32).collect();
        let best: Vec<usize> = top_k(many.iter().copied(), 3).iter().map(|r| r.0).collect();
        let mut sorted: Vec<(usize, f32)> = many.iter().copied().enumerate().collect();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(best, sorted[..3].iter().map(|r| r.0).collect::<Vec<_>>());
    }

    #[test]
    fn dot_sums_every_value() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let ones = vec![1.0; 19];
        assert_eq!(dot(&a, &ones), 171.0);
        assert_eq!(dot(&[], &[]), 0.0);
    }

    #[test]
    fn an_index_adds_replaces_removes_searches_and_restores() {
        let mut index = VectorIndex::new("m", 2);
        index.add("a", &[1.0, 0.0]).unwrap();
        index.add("b", &[0.0, 1.0]).unwrap();
        index.add("c", &[0.6, 0.8]).unwrap();
        assert_eq!(
            index.search(&[0.0, 1.0], 2).unwrap(),
            [("b", 1.0), ("c", 0.8)]
        );
        index.add("b", &[-1.0, 0.0]).unwrap();
        assert!(index.remove("a"));
        assert!(!index.remove("a"));
        assert_eq!(index.ids(), ["c", "b"]);
        assert_eq!(index.vectors(), [0.6, 0.8, -1.0, 0.0]);
        let saved = (index.ids().to_vec(), index.vectors().to_vec());
        let restored = VectorIndex::restore("m", 2, saved.0, saved.1).unwrap();
        assert_eq!(restored, index);
        assert!(VectorIndex::restore("m", 2, vec!["x".into()], vec![1.0]).is_err());
        assert!(index.add("d", &[1.0]).is_err());
        assert!(index.search(&[1.0], 1).is_err());
        assert!(index.check_model("m").is_ok());
        assert_eq!(
            index.check_model("other").unwrap_err().code(),
            "invalid_request"
        );
    }
}
