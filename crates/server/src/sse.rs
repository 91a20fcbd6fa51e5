//! A reply as server-sent events: `data: {chunk}` frames, keep-alive comments,
//! `data: [DONE]` after a complete reply, or a `data: {"error": …}` frame (and no
//! `[DONE]`) when it failed after the stream started.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::call::ChunkStream;
use crate::shape::Shape;
use crate::tally::Tally;

/// How often an idle stream gets a comment line, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn json(value: &impl serde::Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).expect("protocol types serialise"))
}

/// Stream `chunks` to the client in `shape`; the usage chunk only if `include_usage`.
pub fn response(chunks: ChunkStream, tally: Tally, include_usage: bool, shape: Shape) -> Response {
    let frames = futures_util::stream::unfold(Some((chunks, tally)), move |state| async move {
        let (mut chunks, mut tally) = state?;
        loop {
            match chunks.next().await {
                Some(Ok(mut chunk)) => {
                    tally.observe(&chunk);
                    if !include_usage {
                        if chunk.choices.is_empty() {
                            continue;
                        }
                        chunk.usage = None;
                    }
                    let Some(value) = shape.chunk(chunk) else {
                        continue;
                    };
                    return Some((json(&value), Some((chunks, tally))));
                }
                Some(Err(e)) => {
                    tally.end("stream_error");
                    return Some((json(&e.body()), None));
                }
                None => {
                    tally.end(200);
                    return Some((Event::default().data("[DONE]"), None));
                }
            }
        }
    });
    Sse::new(frames.map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response()
}
