//! Stop strings: text is released only once it cannot be the start of a stop string,
//! and a stop string itself is never released.

use crate::error::{Error, Result};

/// Most stop strings a request may give (OpenAI's limit).
pub const MAX_STOP_STRINGS: usize = 4;

/// Holds back generated text that could still turn into a stop string.
#[derive(Debug, Default)]
pub struct StopBuffer {
    stops: Vec<String>,
    held: String,
}

/// What pushing text into a [`StopBuffer`] gave.
#[derive(Debug, PartialEq)]
pub struct Released {
    /// Text safe to show now.
    pub text: String,
    /// Whether a stop string was found (everything from it on is dropped).
    pub stopped: bool,
}

impl StopBuffer {
    /// A buffer for up to [`MAX_STOP_STRINGS`] non-empty stop strings.
    pub fn new(stops: Vec<String>) -> Result<Self> {
        if stops.len() > MAX_STOP_STRINGS {
            return Err(Error::InvalidRequest(format!(
                "at most {MAX_STOP_STRINGS} stop strings are allowed, got {}",
                stops.len()
            )));
        }
        if stops.iter().any(String::is_empty) {
            return Err(Error::InvalidRequest(
                "stop strings must not be empty".into(),
            ));
        }
        Ok(StopBuffer {
            stops,
            held: String::new(),
        })
    }

    /// Add newly generated text; release what can no longer be part of a stop string.
    pub fn push(&mut self, text: &str) -> Released {
        self.held.push_str(text);
        let first_stop = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min();
        if let Some(at) = first_stop {
            self.held.truncate(at);
            return Released {
                text: std::mem::take(&mut self.held),
                stopped: true,
            };
        }
        let keep_from = self
            .held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = &self.held[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .unwrap_or(self.held.len());
        let text = self.held[..keep_from].to_string();
        self.held.drain(..keep_from);
        Released {
            text,
            stopped: false,
        }
    }

    /// Generation ended without a stop string: release everything held.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(stops: &[&str]) -> StopBuffer {
        StopBuffer::new(stops.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    #[test]
    fn releases_text_that_cannot_start_a_stop() {
        let mut b = buffer(&["END"]);
        assert_eq!(b.push("hello ").text, "hello ");
        assert_eq!(b.push("E").text, "");
        assert_eq!(b.push("x").text, "Ex");
    }

    #[test]
    fn stop_split_across_pushes_is_never_released() {
        let mut b = buffer(&["\n\nUser:"]);
        assert_eq!(b.push("Sure.\n").text, "Sure.");
        assert_eq!(b.push("\nUs").text, "");
        let r = b.push("er: hi");
        assert_eq!(
            r,
            Released {
                text: String::new(),
                stopped: true
            }
        );
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let mut b = buffer(&["b", "abc"]);
        let r = b.push("xxabc");
        assert_eq!(r.text, "xx");
        assert!(r.stopped);
    }

    #[test]
    fn finish_releases_a_partial_stop() {
        let mut b = buffer(&["STOP"]);
        assert_eq!(b.push("go ST").text, "go ");
        assert_eq!(b.finish(), "ST");
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        let mut b = buffer(&["é!"]);
        assert_eq!(b.push("café").text, "caf");
        assert_eq!(b.push("?").text, "é?");
    }

    #[test]
    fn too_many_or_empty_stops_are_rejected() {
        let five = vec!["a".to_string(); 5];
        assert_eq!(StopBuffer::new(five).unwrap_err().code(), "invalid_request");
        assert_eq!(
            StopBuffer::new(vec![String::new()]).unwrap_err().code(),
            "invalid_request"
        );
    }
}
