//! Prometheus metrics per backend: chat requests by status, tokens in and out, time
//! to first token, decode time (tokens/s = rate of tokens out / rate of decode time),
//! embeddings requests (embedding_metrics.rs),
//! the native queue, the client connections, and each upstream base URL.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::embedding_metrics::EmbeddingStats;
use crate::prometheus::histogram;
use crate::upstream::pool::MemberFigures;

/// Upper bounds of the time-to-first-token histogram, in seconds.
const TTFT_BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A counter family: name, help, and its value per backend.
type Counter = (&'static str, &'static str, fn(&Stats) -> f64);

/// A family per upstream base URL: name, type, help, and its value.
type UpstreamFigure = (
    &'static str,
    &'static str,
    &'static str,
    fn(&MemberFigures) -> f64,
);

#[derive(Default)]
struct Stats {
    requests: BTreeMap<String, u64>,
    prompt_tokens: u64,
    completion_tokens: u64,
    ttft_buckets: [u64; TTFT_BUCKETS.len()],
    ttft_count: u64,
    ttft_sum: f64,
    decode_seconds: f64,
}

/// Which API a request was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Api {
    /// Chat completions, or the completions API (run as chat).
    #[default]
    Chat,
    /// `POST /v1/embeddings`.
    Embeddings,
}

/// The end of one request, as metrics see it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Which API.
    pub api: Api,
    /// The backend that answered, or `none` when refused before one was chosen.
    pub backend: String,
    /// HTTP status, or `stream_error` / `cancelled` once streaming.
    pub status: String,
    /// Prompt and completion tokens.
    pub tokens: (usize, usize),
    /// Seconds to the first content.
    pub ttft: Option<f64>,
    /// Seconds from the first content to the last.
    pub decode_seconds: f64,
    /// Texts embedded (embeddings).
    pub inputs: usize,
    /// Seconds from the request to its end.
    pub seconds: f64,
}

/// All counters of the server.
#[derive(Default)]
pub struct Metrics {
    backends: Mutex<BTreeMap<String, Stats>>,
    embeddings: Mutex<EmbeddingStats>,
    /// Client connections open now.
    pub open_connections: AtomicUsize,
    /// Client connections refused because too many were open.
    pub refused_connections: AtomicU64,
}

impl Metrics {
    /// Count one finished request.
    pub fn record(&self, o: &Outcome) {
        if o.api == Api::Embeddings {
            let mut embeddings = self.embeddings.lock().expect("metrics lock");
            embeddings.record(&o.backend, &o.status, o.inputs, o.tokens.0, o.seconds);
            return;
        }
        let mut backends = self.backends.lock().expect("metrics lock");
        let s = backends.entry(o.backend.clone()).or_default();
        *s.requests.entry(o.status.clone()).or_default() += 1;
        s.prompt_tokens += o.tokens.0 as u64;
        s.completion_tokens += o.tokens.1 as u64;
        s.decode_seconds += o.decode_seconds;
        if let Some(t) = o.ttft {
            s.ttft_count += 1;
            s.ttft_sum += t;
            for (bucket, bound) in s.ttft_buckets.iter_mut().zip(TTFT_BUCKETS) {
                *bucket += u64::from(t <= bound);
            }
        }
    }

    /// The Prometheus text format; `native` is the native models' queues (waiting,
    /// running, summed over the models), `encoders_queued` the requests waiting for
    /// the native encoders (summed),
    /// `redis_up` whether the shared store answered last (when there is one),
    /// `upstreams` each provider backend's base URLs.
    pub fn render(
        &self,
        native: Option<(usize, usize)>,
        encoders_queued: Option<usize>,
        redis_up: Option<bool>,
        upstreams: &[(String, Vec<MemberFigures>)],
    ) -> String {
        let backends = self.backends.lock().expect("metrics lock");
        let mut out = String::new();
        let mut family =
            |name: &str, kind: &str, help: &str, lines: &mut dyn FnMut(&mut String)| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                lines(&mut out);
            };
        family(
            "tandem_requests_total",
            "counter",
            "Chat requests by backend and status.",
            &mut |o| {
                for (b, s) in backends.iter() {
                    for (status, n) in &s.requests {
                        let _ = writeln!(
                            o,
                            "tandem_requests_total{{backend=\"{b}\",status=\"{status}\"}} {n}"
                        );
                    }
                }
            },
        );
        let counters: [Counter; 3] = [
            ("tandem_prompt_tokens_total", "Prompt tokens read.", |s| {
                s.prompt_tokens as f64
            }),
            ("tandem_completion_tokens_total", "Tokens generated.", |s| {
                s.completion_tokens as f64
            }),
            (
                "tandem_decode_seconds_total",
                "Time from first to last content; tokens/s = rate(completion) / rate(this).",
                |s| s.decode_seconds,
            ),
        ];
        for (name, help, value) in counters {
            family(name, "counter", help, &mut |o| {
                for (b, s) in backends.iter() {
                    let _ = writeln!(o, "{name}{{backend=\"{b}\"}} {}", value(s));
                }
            });
        }
        let name = "tandem_time_to_first_token_seconds";
        family(
            name,
            "histogram",
            "From the request to the first content.",
            &mut |o| {
                for (b, s) in backends.iter() {
                    let (buckets, sum, count) = (&s.ttft_buckets, s.ttft_sum, s.ttft_count);
                    histogram(o, name, b, &TTFT_BUCKETS, buckets, sum, count);
                }
            },
        );
        let open = self.open_connections.load(Ordering::Relaxed);
        family(
            "tandem_open_connections",
            "gauge",
            "Client connections open now.",
            &mut |o| {
                let _ = writeln!(o, "tandem_open_connections {open}");
            },
        );
        let refused = self.refused_connections.load(Ordering::Relaxed);
        family(
            "tandem_refused_connections_total",
            "counter",
            "Client connections refused because too many were open.",
            &mut |o| {
                let _ = writeln!(o, "tandem_refused_connections_total {refused}");
            },
        );
        let per_url: [UpstreamFigure; 5] = [
            (
                "tandem_upstream_in_flight",
                "gauge",
                "Requests being answered by the base URL.",
                |m| m.in_flight as f64,
            ),
            (
                "tandem_upstream_requests_total",
                "counter",
                "Requests sent to the base URL.",
                |m| m.requests as f64,
            ),
            (
                "tandem_upstream_failures_total",
                "counter",
                "Requests the base URL failed (then it cooled down).",
                |m| m.failures as f64,
            ),
            (
                "tandem_upstream_first_byte_seconds_total",
                "counter",
                "Seconds to the response headers, summed; / requests - failures = mean latency.",
                |m| m.first_byte_seconds,
            ),
            (
                "tandem_upstream_cooling",
                "gauge",
                "1 while the base URL is skipped after a failure.",
                |m| f64::from(u8::from(m.cooling)),
            ),
        ];
        for (name, kind, help, value) in per_url {
            family(name, kind, help, &mut |o| {
                for (backend, members) in upstreams {
                    for m in members {
                        let _ = writeln!(
                            o,
                            "{name}{{backend=\"{backend}\",url=\"{}\"}} {}",
                            m.url,
                            value(m)
                        );
                    }
                }
            });
        }
        if let Some(up) = redis_up {
            family(
                "tandem_redis_up",
                "gauge",
                "1 while the shared store (Redis) answers; 0 while serving on local state.",
                &mut |o| {
                    let _ = writeln!(o, "tandem_redis_up {}", u8::from(up));
                },
            );
        }
        if native.is_some() || encoders_queued.is_some() {
            family(
                "tandem_queue_depth",
                "gauge",
                "Requests waiting for the native models, and for the native encoders.",
                &mut |o| {
                    if let Some((queued, _)) = native {
                        let _ = writeln!(o, "tandem_queue_depth{{backend=\"native\"}} {queued}");
                    }
                    if let Some(queued) = encoders_queued {
                        let _ = writeln!(o, "tandem_queue_depth{{backend=\"encoder\"}} {queued}");
                    }
                },
            );
        }
        if let Some((_, running)) = native {
            family(
                "tandem_native_running",
                "gauge",
                "Replies the native models are generating (a batch each).",
                &mut |o| {
                    let _ = writeln!(o, "tandem_native_running {running}");
                },
            );
        }
        self.embeddings
            .lock()
            .expect("metrics lock")
            .render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_add_up() {
        let m = Metrics::default();
        for ttft in [0.07, 3.0] {
            m.record(&Outcome {
                backend: "native".into(),
                status: "200".into(),
                tokens: (10, 5),
                ttft: Some(ttft),
                decode_seconds: 0.5,
                ..Outcome::default()
            });
        }
        let upstream = MemberFigures {
            url: "http://10.0.0.1:8000/v1".into(),
            in_flight: 3,
            requests: 9,
            failures: 1,
            first_byte_seconds: 2.5,
            cooling: true,
        };
        m.record(&Outcome {
            api: Api::Embeddings,
            backend: "minilm".into(),
            status: "200".into(),
            tokens: (12, 0),
            inputs: 3,
            seconds: 0.02,
            ..Outcome::default()
        });
        let text = m.render(
            Some((2, 3)),
            Some(1),
            Some(false),
            &[("vllm".into(), vec![upstream])],
        );
        for line in [
            "tandem_requests_total{backend=\"native\",status=\"200\"} 2",
            "tandem_completion_tokens_total{backend=\"native\"} 10",
            "tandem_time_to_first_token_seconds_bucket{backend=\"native\",le=\"0.1\"} 1",
            "tandem_time_to_first_token_seconds_count{backend=\"native\"} 2",
            "tandem_queue_depth{backend=\"native\"} 2",
            "tandem_native_running 3",
            "tandem_queue_depth{backend=\"encoder\"} 1",
            "tandem_embedding_requests_total{backend=\"minilm\",status=\"200\"} 1",
            "tandem_embedding_inputs_total{backend=\"minilm\"} 3",
            "tandem_embedding_tokens_total{backend=\"minilm\"} 12",
            "tandem_embedding_seconds_bucket{backend=\"minilm\",le=\"0.01\"} 0",
            "tandem_embedding_seconds_bucket{backend=\"minilm\",le=\"0.025\"} 1",
            "tandem_redis_up 0",
            "tandem_upstream_in_flight{backend=\"vllm\",url=\"http://10.0.0.1:8000/v1\"} 3",
            "tandem_upstream_cooling{backend=\"vllm\",url=\"http://10.0.0.1:8000/v1\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
