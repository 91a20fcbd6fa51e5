//! Grouping inputs into padded batches: sorted by length, then cut into buckets of
//! similar lengths, so that little of a batch is padding.

/// The most sequences in one batch.
const MAX_BATCH: usize = 32;

/// The inputs (by index) of each batch: `lens` sorted, then cut wherever the next
/// input would make the batch's padding more than a quarter of it (plus 4 tokens per
/// row), or the batch would pass [`MAX_BATCH`] sequences or `max_tokens` padded
/// tokens.
pub(super) fn buckets(lens: &[usize], max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| lens[i]);
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut bucket: Vec<usize> = Vec::new();
    for i in order {
        let shortest = bucket.first().map_or(lens[i], |&b| lens[b]);
        let longest = lens[i];
        let fits = bucket.len() < MAX_BATCH
            && (bucket.len() + 1) * longest <= max_tokens.max(longest)
            && longest <= shortest + shortest / 4 + 4;
        if !fits && !bucket.is_empty() {
            out.push(std::mem::take(&mut bucket));
        }
        bucket.push(i);
    }
    if !bucket.is_empty() {
        out.push(bucket);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::buckets;

    #[test]
    fn similar_lengths_go_together_and_every_input_once() {
        let lens = [12, 300, 13, 14, 40, 11, 45];
        let b = buckets(&lens, 4096);
        assert_eq!(b, vec![vec![5, 0, 2, 3], vec![4, 6], vec![1]]);
        let many = vec![10; 70];
        let b = buckets(&many, 4096);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [32, 32, 6]);
        assert_eq!(buckets(&[500, 500], 600), vec![vec![0], vec![1]]);
    }
}
