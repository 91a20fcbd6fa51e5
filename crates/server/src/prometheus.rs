//! Prometheus's text format: the lines of a histogram, shared by the server's
//! metrics and the embeddings'.

use std::fmt::Write;

/// One backend's lines of histogram `name` onto `out`: a cumulative bucket per
/// bound in `bounds` (counts in `buckets`), `+Inf`, the sum and the count.
pub fn histogram(
    out: &mut String,
    name: &str,
    backend: &str,
    bounds: &[f64],
    buckets: &[u64],
    sum: f64,
    count: u64,
) {
    for (bound, n) in bounds.iter().zip(buckets) {
        let _ = writeln!(
            out,
            "{name}_bucket{{backend=\"{backend}\",le=\"{bound}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{backend=\"{backend}\",le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(out, "{name}_sum{{backend=\"{backend}\"}} {sum}");
    let _ = writeln!(out, "{name}_count{{backend=\"{backend}\"}} {count}");
}
