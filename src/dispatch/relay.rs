//! Passing a started reply on to the app: every chunk in order, the last one marked
//! with the `tandem` report, the engine's speed learnt from it, and an abort ending it.

use std::rc::Rc;

use tandem_core::router::Target;
use tandem_core::TandemInfo;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortSignal;

use super::report::Report;
use super::start::Started;
use super::Engines;
use crate::abort::{aborted, AbortHook};
use crate::chunks;
use crate::stream::{Channel, Item};

impl Engines {
    /// Pass the rest of `started` to a new channel, marking the last chunk with the
    /// report and learning the engine's speed from it; `strip_logprobs` drops the
    /// log-probabilities the cascade asked for on its own.
    pub(super) fn relay(
        self: &Rc<Self>,
        started: Started,
        report: Report,
        signal: Option<&AbortSignal>,
        strip_logprobs: bool,
    ) -> Rc<Channel> {
        let out = Rc::new(Channel::default());
        let rest = started.rest.clone();
        out.on_return(move || rest.stop());
        let abort = signal.map(|signal| {
            let out = Rc::downgrade(&out);
            AbortHook::new(signal, move || {
                if let Some(out) = out.upgrade() {
                    out.fail(aborted());
                }
            })
        });
        let this = self.clone();
        let sink = out.clone();
        let first_token_at = started.first_token_at;
        spawn_local(async move {
            let mut last = None;
            let mut head = started.head.into_iter();
            let end = loop {
                let next = match head.next() {
                    Some(chunk) => Ok(Some(chunk)),
                    None => started.rest.next_chunk().await,
                };
                match next {
                    Ok(Some(chunk)) => {
                        if strip_logprobs {
                            chunks::strip_logprobs(&chunk);
                        }
                        if chunks::usage(&chunk).is_some() {
                            this.mark(&chunk, &report, first_token_at);
                        }
                        last = Some(chunk.clone());
                        sink.push(Item::Chunk(chunk));
                    }
                    Ok(None) => break Item::End,
                    Err(e) => break Item::Error(e),
                }
            };
            if let (Item::End, Some(last)) = (&end, &last) {
                if chunks::tandem(last).is_none() || chunks::usage(last).is_none() {
                    let closing = chunks::closing(last);
                    this.mark(&closing, &report, first_token_at);
                    sink.push(Item::Chunk(closing));
                }
            }
            sink.push(end);
            drop(abort);
        });
        out
    }

    /// Put the `tandem` report on the last chunk and learn the engine's speed: the
    /// local engine measures itself; otherwise the page measures from when the app
    /// asked, when the first token arrived (`first_token_at`) and now.
    fn mark(&self, chunk: &JsValue, report: &Report, first_token_at: f64) {
        let measured = match (report.decision.target, chunks::tandem(chunk)) {
            (Target::Local, Some(local)) => {
                self.speeds.learn_local(&local);
                local
            }
            (target, measured) => {
                let usage = chunks::usage(chunk).unwrap_or_default();
                let ttft = first_token_at - report.requested_at;
                let decode_s = (js_sys::Date::now() - first_token_at) / 1000.0;
                let decode = match usage.completion_tokens {
                    n if n > 1 && decode_s > 0.0 => (n - 1) as f64 / decode_s,
                    _ => 0.0,
                };
                if target == Target::Remote {
                    self.speeds.learn_remote(ttft, decode);
                }
                TandemInfo {
                    model: chunks::model(chunk).unwrap_or_default(),
                    prefill_tokens_per_s: match ttft {
                        t if t > 0.0 => usage.prompt_tokens as f64 / (t / 1000.0),
                        _ => 0.0,
                    },
                    decode_tokens_per_s: decode,
                    time_to_first_token_ms: ttft,
                    ..measured.unwrap_or_default()
                }
            }
        };
        chunks::set_tandem(chunk, &report.info(measured));
    }
}
