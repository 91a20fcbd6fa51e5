//! Reading server-sent events as they arrive: bytes in, each complete event out (its
//! `data`, and its `event` name for streams that name them). Lines may end in `\n`,
//! `\r\n` or `\r`, split anywhere across reads; comments and other fields are
//! skipped, as the SSE standard says.

/// The `data` of the event that ends an OpenAI stream.
pub const DONE: &str = "[DONE]";

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Its `event` field, empty when it has none.
    pub event: String,
    /// Its `data` lines joined by `\n`.
    pub data: String,
}

/// An incremental SSE reader.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line not ended yet.
    line: Vec<u8>,
    /// `data` lines of the event not ended yet.
    data: Vec<String>,
    /// The `event` field of the event not ended yet.
    event: String,
    /// The last byte read was `\r`: a `\n` right after it ends nothing.
    after_cr: bool,
}

impl SseDecoder {
    /// Read `bytes`; returns the `data` of every event they complete (its `data`
    /// lines joined by `\n`).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.push_events(bytes)
            .into_iter()
            .map(|e| e.data)
            .collect()
    }

    /// Read `bytes`; returns every event they complete.
    pub fn push_events(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    let line = String::from_utf8_lossy(&self.line).into_owned();
                    self.line.clear();
                    events.extend(self.end_line(&line));
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    /// The stream ended: the `data` of an event that was not closed by a blank line.
    pub fn finish(&mut self) -> Option<String> {
        if !self.line.is_empty() {
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            self.end_line(&line);
        }
        self.end_line("").map(|e| e.data)
    }

    fn end_line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            return (!self.data.is_empty()).then(|| SseEvent {
                event,
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => value.clone_into(&mut self.event),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = ": keep-alive\n\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: one\ndata:two\n\ndata: [DONE]\n\n";
        let whole = SseDecoder::default().push(stream.as_bytes());
        assert_eq!(whole, vec!["{\"a\":1}", "one\ntwo", DONE]);
        for split in 1..stream.len() {
            let mut decoder = SseDecoder::default();
            let (a, b) = stream.as_bytes().split_at(split);
            let mut events = decoder.push(a);
            events.extend(decoder.push(b));
            assert_eq!(events, whole, "split at {split}");
        }
    }

    #[test]
    fn events_keep_their_names() {
        let stream = "event: message_start\r\ndata: {}\r\n\r\nevent: ping\r\n\r\ndata: x\r\n\r\n";
        let event = |event: &str, data: &str| SseEvent {
            event: event.into(),
            data: data.into(),
        };
        assert_eq!(
            SseDecoder::default().push_events(stream.as_bytes()),
            vec![event("message_start", "{}"), event("", "x")],
            "a name without data is dropped with its event"
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let mut decoder = SseDecoder::default();
        assert_eq!(decoder.push(b"data: x\r\rdata: y\r"), vec!["x"]);
        assert_eq!(decoder.push(b"\r"), vec!["y"]);
    }

    #[test]
    fn an_unclosed_event_is_read_at_the_end() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: tail").is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("tail"));
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn utf8_split_across_reads_survives() {
        let text = "data: héllo ✓\n\n".as_bytes();
        let mut decoder = SseDecoder::default();
        let mut events = decoder.push(&text[..8]);
        events.extend(decoder.push(&text[8..]));
        assert_eq!(events, vec!["héllo ✓"]);
    }
}
