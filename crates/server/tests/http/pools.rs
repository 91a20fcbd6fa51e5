//! A backend over several base URLs (a deployment's replicas): the least-loaded one
//! answers, one that fails cools down while the others answer, and is tried again
//! after; every base URL's figures are in /metrics.

use std::time::Duration;

use serde_json::json;
use tandem_server::config::{BackendConfig, BaseUrls, ModelConfig};
use tandem_server::Config;

use crate::{fake, metric, spawn};

/// A config with one model per scenario on a pool of `urls`.
fn pool_config(urls: &[String]) -> Config {
    let mut config = Config::default();
    config.static_dirs.clear();
    config.timeouts.cool_down_s = 1.0;
    for scenario in ["normal", "stall"] {
        config.backends.insert(
            scenario.into(),
            BackendConfig::Openai {
                base_url: BaseUrls::Pool(urls.iter().map(|u| format!("{u}/v1")).collect()),
                model: scenario.into(),
                api_key_env: None,
            },
        );
        config.models.push(ModelConfig {
            id: scenario.into(),
            backends: vec![scenario.into()],
        });
    }
    config
}

async fn ask(base: &str, model: &str) -> reqwest::Response {
    crate::chat(
        base,
        json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await
}

fn figure(name: &str, backend: &str, url: &str) -> String {
    format!("{name}{{backend=\"{backend}\",url=\"{url}/v1\"}} ")
}

#[tokio::test]
async fn the_least_loaded_replica_answers() {
    let (a, b) = (fake::start(), fake::start());
    let base = spawn(pool_config(&[a.base.clone(), b.base.clone()]));
    // A stalled reply holds one replica; the next request goes to the other.
    let first = ask(&base, "stall").await;
    let second = ask(&base, "stall").await;
    assert_eq!([first.status(), second.status()], [200, 200]);
    assert_eq!(a.seen.lock().unwrap().len(), 1);
    assert_eq!(b.seen.lock().unwrap().len(), 1);
    for fake in [&a, &b] {
        let busy = metric(
            &base,
            &figure("tandem_upstream_in_flight", "stall", &fake.base),
        )
        .await;
        assert_eq!(busy, Some(1.0), "{}", fake.base);
    }
    drop((first, second));
    // Idle replicas take turns.
    for _ in 0..4 {
        assert_eq!(ask(&base, "normal").await.status(), 200);
    }
    assert_eq!(a.seen.lock().unwrap().len(), 3);
    assert_eq!(b.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_failed_replica_cools_down_while_the_others_answer() {
    let good = fake::start();
    let dead = "http://127.0.0.1:1".to_string();
    let base = spawn(pool_config(&[dead.clone(), good.base.clone()]));
    let failures_line = figure("tandem_upstream_failures_total", "normal", &dead);
    let failures = || metric(&base, &failures_line);
    let mut answered = 0;
    for _ in 0..4 {
        // Every request is answered: by the good replica, after the dead one at most
        // once per cool-down.
        let r = ask(&base, "normal").await;
        assert_eq!(r.status(), 200);
        r.text().await.unwrap();
        answered += 1;
    }
    assert_eq!(good.seen.lock().unwrap().len(), answered);
    assert_eq!(
        failures().await,
        Some(1.0),
        "tried again while cooling down"
    );
    let cooling = metric(&base, &figure("tandem_upstream_cooling", "normal", &dead)).await;
    assert_eq!(cooling, Some(1.0));
    // After the cool-down the next request probes it again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = ask(&base, "normal").await;
    assert_eq!(r.status(), 200);
    assert_eq!(failures().await, Some(2.0));
}
