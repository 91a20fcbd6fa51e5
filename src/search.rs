//! Semantic search in the page, on the sentence encoder the router picks (the local
//! one by default): `ai.tasks.rank` (documents ranked for a query), and
//! `SearchIndex` (`ai.tasks.index()`): vectors by id that the app adds to, removes
//! from, saves as a `Float32Array` and restores without embedding again, searched by
//! `ai.tasks.search`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use tandem_core::embed::{dot, top_k, VectorIndex};
use tandem_core::protocol::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingVector};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::code::Code;
use crate::dispatch::Engines;
use crate::error::js_error;
use crate::messages::{from_js, to_js};
use crate::options::RouteFields;

/// Results when `topK` is not given.
const DEFAULT_TOP_K: usize = 10;

/// `{topK?, signal?, route?, privacy?}`.
struct SearchOptions {
    top_k: usize,
    signal: Option<AbortSignal>,
    routing: RouteFields,
}

impl SearchOptions {
    fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        let get = |key: &str| {
            Reflect::get(options, &key.into())
                .ok()
                .filter(|v| !v.is_undefined())
        };
        let top_k = match get("topK") {
            None => DEFAULT_TOP_K,
            Some(k) => k
                .as_f64()
                .filter(|k| k.fract() == 0.0 && *k >= 1.0)
                .map(|k| k as usize)
                .ok_or_else(|| invalid("topK must be a whole number of at least 1"))?,
        };
        let signal = get("signal").map(|s| s.unchecked_into::<AbortSignal>());
        let routing = match options.is_object() {
            true => RouteFields::from_js(options)?,
            false => RouteFields::default(),
        };
        Ok(SearchOptions {
            top_k,
            signal,
            routing,
        })
    }
}

fn invalid(message: &str) -> JsValue {
    js_error(Code::InvalidRequest, message)
}

/// Unit vectors of texts, the model that made them, and the `tandem` object saying
/// where and why.
struct Embedded {
    model: String,
    vectors: Vec<Vec<f32>>,
    tandem: JsValue,
}

/// The unit vectors of `texts` (cut at the window) where the router says.
async fn vectors(
    engines: &Engines,
    texts: Vec<String>,
    options: &SearchOptions,
) -> Result<Embedded, JsValue> {
    let request = EmbeddingRequest {
        truncate: Some(true),
        ..EmbeddingRequest::of(EmbeddingInput::Many(texts))
    };
    let answer = (engines.embed(&request, options.routing, options.signal.as_ref())).await?;
    let tandem = Reflect::get(&answer, &"tandem".into())?;
    let response: EmbeddingResponse = from_js(answer)
        .map_err(|e| js_error(Code::RemoteError, &format!("unreadable embeddings: {e}")))?;
    let vectors = (response.data.into_iter())
        .map(|item| match item.embedding {
            EmbeddingVector::Float(v) => v,
            EmbeddingVector::Base64(_) => Vec::new(),
        })
        .collect();
    Ok(Embedded {
        model: response.model,
        vectors,
        tandem,
    })
}

/// A query given as a vector: a `Float32Array` or an array of numbers.
fn query_vector(query: &JsValue) -> Result<Vec<f32>, JsValue> {
    if let Some(vector) = query.dyn_ref::<Float32Array>() {
        return Ok(vector.to_vec());
    }
    from_js(query.clone()).map_err(|_| {
        invalid("query must be a text, or a vector (a Float32Array or an array of numbers)")
    })
}

/// One result of a search or a ranking.
#[derive(Serialize)]
struct Hit<K> {
    /// The document's place (`rank`) or id (`search`).
    #[serde(flatten)]
    key: K,
    /// Cosine similarity to the query.
    score: f32,
}

#[derive(Serialize)]
struct Index {
    index: usize,
}

#[derive(Serialize)]
struct Id<'a> {
    id: &'a str,
}

/// `{results, tandem}`.
fn answer<T: Serialize>(results: &T, tandem: &JsValue) -> Result<JsValue, JsValue> {
    let answer = Object::new();
    Reflect::set(&answer, &"results".into(), &to_js(results))?;
    Reflect::set(&answer, &"tandem".into(), tandem)?;
    Ok(answer.into())
}

/// `ai.tasks.rank`: the `topK` of `documents` most like `query`.
pub fn rank(engines: Rc<Engines>, query: String, documents: JsValue, options: JsValue) -> Promise {
    future_to_promise(async move {
        let documents: Vec<String> =
            from_js(documents).map_err(|e| invalid(&format!("documents must be strings: {e}")))?;
        if documents.is_empty() {
            return Err(invalid("documents is empty: give at least one"));
        }
        let options = SearchOptions::from_js(&options)?;
        let texts = std::iter::once(query).chain(documents).collect();
        let embedded = vectors(&engines, texts, &options).await?;
        let (query, documents) =
            (embedded.vectors.split_first()).ok_or_else(|| invalid("no vectors"))?;
        let ranked = top_k(documents.iter().map(|d| dot(query, d)), options.top_k);
        let hits: Vec<Hit<Index>> = (ranked.into_iter())
            .map(|(index, score)| Hit {
                key: Index { index },
                score,
            })
            .collect();
        answer(&hits, &embedded.tandem)
    })
}

/// An index saved by [`SearchIndex::save`].
#[derive(Deserialize)]
struct Saved {
    model: String,
    dimensions: usize,
    ids: Vec<String>,
}

/// Vectors by id from the local encoder, searched by `ai.tasks.search`.
#[wasm_bindgen]
pub struct SearchIndex {
    engines: Rc<Engines>,
    index: Rc<RefCell<Option<VectorIndex>>>,
}

impl SearchIndex {
    /// An empty index (its model set by the first vectors added), or a saved one
    /// (`{model, dimensions, ids, vectors}`).
    pub fn new(engines: Rc<Engines>, saved: JsValue) -> Result<SearchIndex, JsValue> {
        let index = match saved.is_undefined() || saved.is_null() {
            true => None,
            false => {
                let vectors = Reflect::get(&saved, &"vectors".into())?
                    .dyn_into::<Float32Array>()
                    .map_err(|_| invalid("a saved index's vectors must be a Float32Array"))?
                    .to_vec();
                let rest = Object::assign(&Object::new(), saved.unchecked_ref());
                Reflect::delete_property(&rest, &"vectors".into())?;
                let saved: Saved = from_js(rest.into())
                    .map_err(|e| invalid(&format!("not a saved index: {e}")))?;
                Some(
                    VectorIndex::restore(&saved.model, saved.dimensions, saved.ids, vectors)
                        .map_err(|e| invalid(&e.to_string()))?,
                )
            }
        };
        Ok(SearchIndex {
            engines,
            index: Rc::new(RefCell::new(index)),
        })
    }

    /// The `topK` ids most like `query`: a text, embedded where the router says, or
    /// a vector of the index's model (e.g. a stored document's: "more like this").
    pub fn search(&self, query: JsValue, options: JsValue) -> Promise {
        let (engines, index) = (self.engines.clone(), self.index.clone());
        future_to_promise(async move {
            let options = SearchOptions::from_js(&options)?;
            let started = js_sys::Date::now();
            let (vector, embedded) = match query.as_string() {
                Some(text) => {
                    let mut embedded = vectors(&engines, vec![text], &options).await?;
                    (embedded.vectors.pop().unwrap_or_default(), Some(embedded))
                }
                None => (query_vector(&query)?, None),
            };
            let index = index.borrow();
            let Some(index) = index.as_ref() else {
                let tandem = embedded.map_or(JsValue::NULL, |e| e.tandem);
                return answer(&Vec::<Hit<Id>>::new(), &tandem);
            };
            if let Some(embedded) = &embedded {
                (index.check_model(&embedded.model)).map_err(|e| invalid(&e.to_string()))?;
            }
            let found =
                (index.search(&vector, options.top_k)).map_err(|e| invalid(&e.to_string()))?;
            let hits: Vec<Hit<Id>> = (found.into_iter())
                .map(|(id, score)| Hit {
                    key: Id { id },
                    score,
                })
                .collect();
            let tandem = match embedded {
                Some(embedded) => embedded.tandem,
                None => to_js(&serde_json::json!({
                    "route": "local",
                    "model": index.model(),
                    "reason": "a vector query: nothing to embed",
                    "duration_ms": js_sys::Date::now() - started,
                })),
            };
            answer(&hits, &tandem)
        })
    }
}

/// An item to add: `{id, text}`, or a text that is its own id.
#[derive(Deserialize)]
#[serde(untagged)]
enum Item {
    Text(String),
    Pair { id: String, text: String },
}

#[wasm_bindgen]
impl SearchIndex {
    /// Embed `items` (`{id, text}` or strings, each its own id) and store them,
    /// replacing the ids already there; resolves to the index's size.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn add(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(string | { id: string; text: string })[]")]
        items: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SearchOptions")] options: JsValue,
    ) -> Promise {
        let (engines, index) = (self.engines.clone(), self.index.clone());
        future_to_promise(async move {
            let items: Vec<Item> = from_js(items).map_err(|e| {
                invalid(&format!(
                    "items must be strings or {{id, text}} objects: {e}"
                ))
            })?;
            let options = SearchOptions::from_js(&options)?;
            let (ids, texts): (Vec<String>, Vec<String>) = (items.into_iter())
                .map(|item| match item {
                    Item::Text(text) => (text.clone(), text),
                    Item::Pair { id, text } => (id, text),
                })
                .unzip();
            if texts.is_empty() {
                return Ok(JsValue::from(
                    index.borrow().as_ref().map_or(0, |i| i.ids().len()),
                ));
            }
            let Embedded { model, vectors, .. } = vectors(&engines, texts, &options).await?;
            let mut index = index.borrow_mut();
            let index = index.get_or_insert_with(|| VectorIndex::new(&model, vectors[0].len()));
            index
                .check_model(&model)
                .map_err(|e| invalid(&e.to_string()))?;
            for (id, vector) in ids.iter().zip(&vectors) {
                index.add(id, vector).map_err(|e| invalid(&e.to_string()))?;
            }
            Ok(JsValue::from(index.ids().len()))
        })
    }

    /// Remove `id`; whether it was there.
    pub fn remove(&self, id: &str) -> bool {
        self.index
            .borrow_mut()
            .as_mut()
            .is_some_and(|i| i.remove(id))
    }

    /// How many ids the index holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.index.borrow().as_ref().map_or(0, |i| i.ids().len())
    }

    /// `{model, dimensions, ids, vectors: Float32Array}`, for `ai.tasks.index(saved)`
    /// (e.g. after a reload, with no embedding again); `null` while empty of any
    /// model's vectors.
    #[wasm_bindgen(unchecked_return_type = "SavedIndex | null")]
    pub fn save(&self) -> Result<JsValue, JsValue> {
        let index = self.index.borrow();
        let Some(index) = index.as_ref() else {
            return Ok(JsValue::NULL);
        };
        let saved = Object::new();
        Reflect::set(&saved, &"model".into(), &index.model().into())?;
        Reflect::set(&saved, &"dimensions".into(), &index.dimensions().into())?;
        let ids: Array = index
            .ids()
            .iter()
            .map(|id| JsValue::from(id.as_str()))
            .collect();
        Reflect::set(&saved, &"ids".into(), &ids)?;
        Reflect::set(
            &saved,
            &"vectors".into(),
            &Float32Array::from(index.vectors()),
        )?;
        Ok(saved.into())
    }
}
