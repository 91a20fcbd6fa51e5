//! The demo's files: URL prefixes mapped onto directories (`/` → www/, `/pkg` →
//! pkg/, `/models` → models/ by default), with the content types browsers need for
//! wasm and ES modules (`application/wasm`, `text/javascript`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// A router serving each directory under its prefix; `/` is the fallback.
pub fn router(dirs: &BTreeMap<String, PathBuf>) -> Router {
    let mut router = Router::new();
    for (prefix, dir) in dirs {
        let files = ServeDir::new(dir).append_index_html_on_directories(true);
        router = match prefix.trim_end_matches('/') {
            "" => router.fallback_service(files),
            prefix => router.nest_service(prefix, files),
        };
    }
    router.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ))
}
