//! The page side of one reply: a queue the worker's messages fill, read as an async
//! iterator of chunks (`for await (const chunk of stream)`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::deferred::Deferred;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = asyncIterable)]
    pub(crate) fn async_iterable(object: JsValue) -> JsValue;
}

/// What the worker sent for a reply.
pub enum Item {
    /// A chunk (a plain JS object).
    Chunk(JsValue),
    /// The reply is complete.
    End,
    /// The reply failed with this JS `Error`.
    Error(JsValue),
}

/// Chunks received but not read yet, and a reader waiting for the next one.
#[derive(Default)]
pub struct Channel {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    items: VecDeque<Item>,
    /// No more items will be accepted.
    closed: bool,
    /// The promise a reader waits on.
    waiter: Option<Deferred>,
    /// Called once when the reader stops early (`break` in `for await`).
    on_return: Option<Box<dyn FnOnce()>>,
}

impl Channel {
    /// Add an item from the worker; ignored once the channel is closed.
    pub fn push(&self, item: Item) {
        if !self.state.borrow().closed {
            self.deliver(item);
        }
    }

    /// End the reply now with `error`, dropping chunks not read yet (abort); nothing
    /// happens if the reader already saw the end.
    pub fn fail(&self, error: JsValue) {
        let mut state = self.state.borrow_mut();
        if state.closed && state.items.is_empty() {
            return;
        }
        state.items.clear();
        drop(state);
        self.deliver(Item::Error(error));
    }

    fn deliver(&self, item: Item) {
        let mut state = self.state.borrow_mut();
        state.closed = !matches!(item, Item::Chunk(_));
        match state.waiter.take() {
            Some(waiter) => {
                drop(state);
                settle(&item, &waiter);
            }
            None => state.items.push_back(item),
        }
    }

    /// Run `f` if the reader stops before the end.
    pub fn on_return(&self, f: impl FnOnce() + 'static) {
        self.state.borrow_mut().on_return = Some(Box::new(f));
    }

    /// A promise of the next iterator result `{value, done}`.
    pub fn next(&self) -> Promise {
        let mut state = self.state.borrow_mut();
        match state.items.pop_front() {
            Some(item) => {
                let (promise, now) = Deferred::new();
                settle(&item, &now);
                promise
            }
            None if state.closed => Promise::resolve(&iter_result(JsValue::UNDEFINED, true)),
            None => {
                let (promise, waiter) = Deferred::new();
                state.waiter = Some(waiter);
                promise
            }
        }
    }

    /// The next chunk, or `None` at the end; the reply's error as `Err`.
    pub async fn next_chunk(&self) -> Result<Option<JsValue>, JsValue> {
        let result = JsFuture::from(self.next()).await?;
        if Reflect::get(&result, &"done".into())?.is_truthy() {
            Ok(None)
        } else {
            Ok(Some(Reflect::get(&result, &"value".into())?))
        }
    }

    /// The reader stops early: drop what is left and tell the owner.
    pub fn stop(&self) {
        let mut state = self.state.borrow_mut();
        state.items.clear();
        state.closed = true;
        let on_return = state.on_return.take();
        drop(state);
        if let Some(f) = on_return {
            f();
        }
    }
}

/// An iterator result `{value, done}`.
pub(crate) fn iter_result(value: JsValue, done: bool) -> JsValue {
    let result = Object::new();
    // Setting properties on a fresh object cannot fail.
    let _ = Reflect::set(&result, &"value".into(), &value);
    let _ = Reflect::set(&result, &"done".into(), &done.into());
    result.into()
}

fn settle(item: &Item, promise: &Deferred) {
    match item {
        Item::Chunk(chunk) => promise.resolve(&iter_result(chunk.clone(), false)),
        Item::End => promise.resolve(&iter_result(JsValue::UNDEFINED, true)),
        Item::Error(error) => promise.reject(error),
    }
}

/// A streamed reply: an async iterator of `ChatCompletionChunk`s. The last chunk has
/// no choices and carries `usage` and `tandem`. Breaking out of the loop stops the
/// generation.
#[wasm_bindgen]
pub struct ChunkStream {
    channel: Rc<Channel>,
}

#[wasm_bindgen]
impl ChunkStream {
    /// The next chunk: `{value: chunk, done: false}`, then `{done: true}`; rejects
    /// with the reply's error (e.g. `code: "aborted"`).
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(
        unchecked_return_type = "Promise<IteratorResult<ChatCompletionChunk, undefined>>"
    )]
    pub fn next(&self) -> Promise {
        self.channel.next()
    }

    /// Stop early (what `break` in `for await` calls): the generation is aborted.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<ChatCompletionChunk, undefined>>"
    )]
    pub fn stop(&self) -> Promise {
        self.channel.stop();
        Promise::resolve(&iter_result(JsValue::UNDEFINED, true))
    }
}

impl ChunkStream {
    /// The stream over `channel`, usable with `for await`.
    pub fn iterable(channel: Rc<Channel>) -> JsValue {
        async_iterable(ChunkStream { channel }.into())
    }
}
