//! Backends that failed cool down: after a failure that moves the fallback chain on,
//! a backend is skipped for `timeouts.cool_down_s`, then the next request tries it
//! again. This replica remembers it, and with a store every replica learns it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::Store;

/// Who is cooling down, here and (with a store) on every replica.
pub struct Health {
    local: Mutex<HashMap<String, Instant>>,
    store: Option<Arc<Store>>,
    cool_down: Duration,
}

impl Health {
    /// Backends skipped for `cool_down` after a failure.
    pub fn new(store: Option<Arc<Store>>, cool_down: Duration) -> Self {
        Health {
            local: Mutex::default(),
            store,
            cool_down,
        }
    }

    /// Which of `names` are cooling down, here or on any replica.
    pub async fn cooling(&self, names: &[&str]) -> Vec<bool> {
        let local: Vec<bool> = {
            let mut until = self.local.lock().expect("health lock");
            let now = Instant::now();
            until.retain(|_, t| *t > now);
            names.iter().map(|n| until.contains_key(*n)).collect()
        };
        let shared = match &self.store {
            Some(store) => store.cooling(names).await,
            None => None,
        };
        match shared {
            Some(shared) => local.iter().zip(shared).map(|(a, b)| *a || b).collect(),
            None => local,
        }
    }

    /// `name` failed: skip it for a while, everywhere.
    pub async fn failed(&self, name: &str) {
        let until = Instant::now() + self.cool_down;
        self.local
            .lock()
            .expect("health lock")
            .insert(name.to_string(), until);
        if let Some(store) = &self.store {
            store.cool_down(name, self.cool_down).await;
        }
    }
}
