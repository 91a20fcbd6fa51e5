//! Model files in the Cache API: each file under its URL in one bucket and, under the
//! same URL in another, its record (sha256, xxh3 and size), written only once the file is
//! stored whole and verified. A file without its record is never used. A file is
//! stored as it downloads, chunk by chunk, so it is never held whole in memory.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStream, ReadableStreamDefaultController, Response, ResponseInit};

use crate::global::global;

/// The bucket of model files.
const FILES: &str = "tandem-models";
/// The bucket of their records.
const RECORDS: &str = "tandem-model-records";

/// What was verified of a stored file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Its sha256 (lowercase hex).
    pub sha256: String,
    /// Its xxh3-128 (lowercase hex), what later loads check (see digest.rs); records
    /// written before it have none, and are checked by their sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xxh3: Option<String>,
    /// Its size.
    pub bytes: f64,
}

/// One model in the cache, as `Tandem.cached()` lists it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Serialize)]
pub struct CachedModel {
    /// The URL it was downloaded from.
    pub url: String,
    /// Its sha256, computed at download.
    pub sha256: Option<String>,
    /// Its size.
    pub bytes: f64,
}

/// The two buckets.
pub struct ModelCache {
    files: Cache,
    records: Cache,
}

impl ModelCache {
    /// Open the buckets (an error where the page has no Cache API).
    pub async fn open() -> Result<Self, JsValue> {
        let caches = global().caches()?;
        let open = |name| {
            let opened = caches.open(name);
            async move { Ok::<Cache, JsValue>(JsFuture::from(opened).await?.unchecked_into()) }
        };
        Ok(ModelCache {
            files: open(FILES).await?,
            records: open(RECORDS).await?,
        })
    }

    /// The stored file of `url` with its record, when both are there.
    pub async fn lookup(&self, url: &str) -> Option<(Response, Record)> {
        let record = matched(&self.records, url).await?;
        let record = JsFuture::from(record.text().ok()?).await.ok()?;
        let record: Record = serde_json::from_str(&record.as_string()?).ok()?;
        Some((matched(&self.files, url).await?, record))
    }

    /// Remove `url`'s file and record; whether the file was there.
    pub async fn delete(&self, url: &str) -> Result<bool, JsValue> {
        JsFuture::from(self.records.delete_with_str(url)).await?;
        Ok(JsFuture::from(self.files.delete_with_str(url))
            .await?
            .is_truthy())
    }

    /// Start storing a file under `url`: its chunks go to [`CacheWriter::write`].
    /// The file already there stays until the new one is stored whole; should its
    /// record then fail to follow, the old record does not match the new file and
    /// the file is not used.
    pub fn writer(&self, url: &str) -> Result<CacheWriter, JsValue> {
        let slot = Rc::new(RefCell::new(None));
        let keep = slot.clone();
        // Called at once by the stream's constructor, with its controller.
        let start = Closure::once(move |controller: ReadableStreamDefaultController| {
            keep.replace(Some(controller));
        });
        let waiting: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
        let wake = waiting.clone();
        // Called whenever the cache has taken the queued chunks and wants more, or
        // has given up on the file (a full disk): either way, writing goes on.
        let pull = Closure::<dyn FnMut()>::new(move || {
            if let Some(resolve) = wake.take() {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        let source = Object::new();
        Reflect::set(&source, &"start".into(), start.as_ref())?;
        Reflect::set(&source, &"pull".into(), pull.as_ref())?;
        Reflect::set(&source, &"cancel".into(), pull.as_ref())?;
        let stream = ReadableStream::new_with_underlying_source(&source)?;
        let controller = slot
            .take()
            .ok_or_else(|| JsValue::from_str("the stream did not start"))?;
        let init = ResponseInit::new();
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "application/octet-stream")?;
        init.set_headers(&headers);
        let response = Response::new_with_opt_readable_stream_and_init(Some(&stream), &init)?;
        Ok(CacheWriter {
            controller,
            put: self.files.put_with_str(url, &response),
            records: self.records.clone(),
            url: url.to_string(),
            waiting,
            _pull: pull,
        })
    }

    /// The models stored.
    pub async fn list(&self) -> Result<Vec<CachedModel>, JsValue> {
        let keys: Array = JsFuture::from(self.files.keys()).await?.unchecked_into();
        let mut models = Vec::new();
        for request in keys.iter() {
            let url = request.unchecked_into::<web_sys::Request>().url();
            let record = self.lookup(&url).await.map(|(_, record)| record);
            models.push(CachedModel {
                sha256: record.as_ref().map(|r| r.sha256.clone()),
                bytes: record.map_or(0.0, |r| r.bytes),
                url,
            });
        }
        Ok(models)
    }
}

async fn matched(cache: &Cache, url: &str) -> Option<Response> {
    JsFuture::from(cache.match_with_str(url))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// A file being stored as it arrives.
pub struct CacheWriter {
    controller: ReadableStreamDefaultController,
    /// The file's `put`, done once the stream closes.
    put: Promise,
    records: Cache,
    url: String,
    /// Resolves the wait of [`CacheWriter::write`] when the cache wants more.
    waiting: Rc<RefCell<Option<js_sys::Function>>>,
    _pull: Closure<dyn FnMut()>,
}

impl CacheWriter {
    /// The file's next chunk. Waits while the cache has not taken the one before,
    /// so that chunks do not pile up in memory when the disk is slower than the
    /// network.
    pub async fn write(&self, chunk: &Uint8Array) {
        if self.controller.enqueue_with_chunk(chunk).is_err() {
            return;
        }
        if self
            .controller
            .desired_size()
            .is_some_and(|room| room <= 0.0)
        {
            let taken = Promise::new(&mut |resolve, _| {
                self.waiting.replace(Some(resolve));
            });
            let _ = JsFuture::from(taken).await;
        }
    }

    /// The whole file has come and is verified: finish storing it, then its record.
    pub async fn commit(self, record: &Record) -> Result<(), JsValue> {
        self.controller.close()?;
        JsFuture::from(self.put).await?;
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        let response = Response::new_with_opt_str(Some(&json))?;
        JsFuture::from(self.records.put_with_str(&self.url, &response)).await?;
        Ok(())
    }

    /// Store nothing: the download failed or the file is not the one wanted.
    pub fn abort(self) {
        self.controller
            .error_with_e(&JsValue::from_str("the model was not stored"));
        // The put fails now; its failure is expected.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(self.put).await;
        });
    }
}

/// The models in the cache.
pub async fn cached() -> Result<Vec<CachedModel>, JsValue> {
    ModelCache::open().await?.list().await
}

/// Remove `url` from the cache; whether it was there.
pub async fn evict(url: &str) -> Result<bool, JsValue> {
    ModelCache::open().await?.delete(url).await
}
