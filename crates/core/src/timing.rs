//! Speeds of one reply from timestamps the caller takes with its own clock.

/// Prompt-reading and generating speeds of one reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timings {
    /// From the start of work to the first token.
    pub time_to_first_token_ms: f64,
    /// Prompt tokens per second of the time to first token.
    pub prefill_tokens_per_s: f64,
    /// Tokens per second after the first.
    pub decode_tokens_per_s: f64,
}

/// Collects the timestamps (in milliseconds) of one reply.
#[derive(Debug, Clone)]
pub struct Stopwatch {
    prompt_tokens: usize,
    started: f64,
    first_token: Option<f64>,
    last_token: f64,
}

impl Stopwatch {
    /// Work on a prompt of `prompt_tokens` starts at `now`.
    pub fn start(now: f64, prompt_tokens: usize) -> Self {
        Stopwatch {
            prompt_tokens,
            started: now,
            first_token: None,
            last_token: now,
        }
    }

    /// A token came at `now`.
    pub fn token(&mut self, now: f64) {
        self.first_token.get_or_insert(now);
        self.last_token = now;
    }

    /// The speeds, once `completion_tokens` were generated.
    pub fn timings(&self, completion_tokens: usize) -> Timings {
        let first = self.first_token.unwrap_or(self.last_token);
        let ttft = first - self.started;
        let per_s = |n: usize, ms: f64| {
            if ms > 0.0 {
                n as f64 * 1000.0 / ms
            } else {
                0.0
            }
        };
        Timings {
            time_to_first_token_ms: ttft,
            prefill_tokens_per_s: per_s(self.prompt_tokens, ttft),
            decode_tokens_per_s: per_s(
                completion_tokens.saturating_sub(1),
                self.last_token - first,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_come_from_the_timestamps() {
        let mut s = Stopwatch::start(1000.0, 40);
        s.token(1500.0);
        s.token(1600.0);
        s.token(1700.0);
        let t = s.timings(3);
        assert_eq!(t.time_to_first_token_ms, 500.0);
        assert_eq!(t.prefill_tokens_per_s, 80.0);
        assert_eq!(t.decode_tokens_per_s, 10.0);
        assert_eq!(Stopwatch::start(0.0, 5).timings(0).decode_tokens_per_s, 0.0);
    }
}
