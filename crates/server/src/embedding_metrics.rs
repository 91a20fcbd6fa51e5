//! Prometheus metrics of `POST /v1/embeddings` per backend: requests by status,
//! texts embedded, tokens read, and a histogram of the time from the request to its
//! answer.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::prometheus::histogram;

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0];

/// A counter family: name, help, and its value per backend.
type Counter = (&'static str, &'static str, fn(&Stats) -> u64);

#[derive(Default)]
struct Stats {
    requests: BTreeMap<String, u64>,
    inputs: u64,
    tokens: u64,
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The embeddings counters of every backend.
#[derive(Default)]
pub struct EmbeddingStats {
    backends: BTreeMap<String, Stats>,
}

impl EmbeddingStats {
    /// Count one finished embeddings request: answered by `backend` (`none` when
    /// refused before one was chosen) with `status`, `inputs` texts of `tokens`
    /// tokens, `seconds` after it came.
    pub fn record(
        &mut self,
        backend: &str,
        status: &str,
        inputs: usize,
        tokens: usize,
        seconds: f64,
    ) {
        let s = self.backends.entry(backend.to_string()).or_default();
        *s.requests.entry(status.to_string()).or_default() += 1;
        s.inputs += inputs as u64;
        s.tokens += tokens as u64;
        s.count += 1;
        s.sum += seconds;
        for (bucket, bound) in s.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            *bucket += u64::from(seconds <= bound);
        }
    }

    /// The families in Prometheus's text format, onto `out`.
    pub fn render(&self, out: &mut String) {
        let name = "tandem_embedding_requests_total";
        let o = family(
            out,
            name,
            "counter",
            "Embeddings requests by backend and status.",
        );
        for (b, s) in &self.backends {
            for (status, n) in &s.requests {
                let _ = writeln!(o, "{name}{{backend=\"{b}\",status=\"{status}\"}} {n}");
            }
        }
        let counters: [Counter; 2] = [
            ("tandem_embedding_inputs_total", "Texts embedded.", |s| {
                s.inputs
            }),
            (
                "tandem_embedding_tokens_total",
                "Tokens of the texts embedded.",
                |s| s.tokens,
            ),
        ];
        for (name, help, value) in counters {
            let o = family(out, name, "counter", help);
            for (b, s) in &self.backends {
                let _ = writeln!(o, "{name}{{backend=\"{b}\"}} {}", value(s));
            }
        }
        let name = "tandem_embedding_seconds";
        let o = family(out, name, "histogram", "From the request to its answer.");
        for (b, s) in &self.backends {
            histogram(o, name, b, &LATENCY_BUCKETS, &s.buckets, s.sum, s.count);
        }
    }
}

/// The HELP and TYPE lines of a family onto `out`; `out` again, for its lines.
fn family<'a>(out: &'a mut String, name: &str, kind: &str, help: &str) -> &'a mut String {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    out
}
