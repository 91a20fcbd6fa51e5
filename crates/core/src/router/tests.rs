//! The policy's rules, one test each, and fallback both ways. Longer than most files
//! (about 470 lines) so that the rules are tested in one place, in the order mod.rs
//! states them.

use super::*;

const QUICK: &str = "Correct the spelling: 'I recieved teh parcel yesterday.'";
const HEAVY_PROMPT: &str = "Write a detailed report of about 2000 words on urban water management in three coastal cities, analysing the trade-offs of each approach.";
const EMAIL: &str = "Rewrite politely: 'Mail your invoice to jane.doe@example.com now.'";

fn msgs(text: &str) -> Vec<ChatMessage> {
    vec![ChatMessage::new(Role::User, text)]
}

fn both() -> Environment {
    Environment {
        local: Some(LocalEnv::default()),
        remote: Some(RemoteEnv::default()),
    }
}

fn local_only_env() -> Environment {
    Environment {
        local: Some(LocalEnv::default()),
        remote: None,
    }
}

fn remote_only_env() -> Environment {
    Environment {
        local: None,
        remote: Some(RemoteEnv::default()),
    }
}

fn policy(mode: Mode) -> Policy {
    Policy {
        mode,
        privacy: Privacy::Standard,
    }
}

fn strict(mode: Mode) -> Policy {
    Policy {
        mode,
        privacy: Privacy::Strict,
    }
}

fn route(text: &str, env: &Environment, p: &Policy) -> Result<Decision> {
    let m = msgs(text);
    decide(
        &Query {
            messages: &m,
            ..Query::default()
        },
        env,
        p,
    )
}

fn target(text: &str, env: &Environment, p: &Policy) -> Target {
    route(text, env, p).unwrap().target
}

fn no_route(r: Result<Decision>) -> String {
    match r {
        Err(e @ Error::NoRoute(_)) => {
            assert_eq!(e.code(), "no_route");
            e.to_string()
        }
        other => panic!("expected no_route, got {other:?}"),
    }
}

#[test]
fn auto_sends_quick_local_and_heavy_remote_with_reasons() {
    let quick = route(QUICK, &both(), &Policy::default()).unwrap();
    assert_eq!(quick.target, Target::Local);
    assert!(
        quick.reason.starts_with("quick: short rewrite, local ~"),
        "{}",
        quick.reason
    );
    assert!(quick.reason.contains(" vs server ~"));
    let heavy = route(HEAVY_PROMPT, &both(), &Policy::default()).unwrap();
    assert_eq!(heavy.target, Target::Remote);
    assert!(heavy.reason.starts_with("heavy: "), "{}", heavy.reason);
    assert!(
        heavy.reason.ends_with("-token answer expected"),
        "{}",
        heavy.reason
    );
    assert!(heavy.scores.difficulty > quick.scores.difficulty);
    assert!(heavy.scores.expected_tokens > quick.scores.expected_tokens);
}

#[test]
fn auto_sends_light_queries_remote_when_the_local_side_is_far_slower() {
    let mut env = both();
    env.local = Some(LocalEnv {
        decode_tokens_per_s: 1.0,
        prefill_tokens_per_s: 2.0,
        ..LocalEnv::default()
    });
    let d = route(QUICK, &env, &Policy::default()).unwrap();
    assert_eq!(d.target, Target::Remote);
    assert!(d.reason.starts_with("slow here"), "{}", d.reason);
}

#[test]
fn latency_estimates_use_the_measured_speeds() {
    let m = msgs(QUICK);
    let q = Query {
        messages: &m,
        prompt_tokens: Some(60),
        max_tokens: Some(32),
        ..Query::default()
    };
    let s = decide(&q, &both(), &Policy::default()).unwrap().scores;
    assert_eq!(s.prompt_tokens, 60);
    let e = s.expected_tokens as f64;
    assert!((s.local_ms.unwrap() - (60.0 / 30.0 + e / 16.0) * 1000.0).abs() < 1e-6);
    assert!((s.remote_ms.unwrap() - (700.0 + e / 50.0 * 1000.0)).abs() < 1e-6);
}

#[test]
fn tools_go_remote_in_every_mode_but_local_only() {
    let m = msgs(QUICK);
    let q = Query {
        messages: &m,
        tools: true,
        ..Query::default()
    };
    for mode in [Mode::Auto, Mode::PreferLocal, Mode::PreferRemote] {
        let d = decide(&q, &both(), &policy(mode)).unwrap();
        assert_eq!(d.target, Target::Remote, "{mode:?}");
        assert!(d.reason.contains("cannot call tools"), "{}", d.reason);
    }
    let msg = no_route(decide(&q, &both(), &policy(Mode::LocalOnly)));
    assert!(msg.contains("local-only") && msg.contains("tools"), "{msg}");
    assert!(no_route(decide(&q, &local_only_env(), &Policy::default())).contains("no server"));
    // A local model whose template calls tools takes them like any request.
    let mut env = both();
    env.local = env.local.map(|l| LocalEnv { tools: true, ..l });
    let d = decide(&q, &env, &policy(Mode::PreferLocal)).unwrap();
    assert_eq!(d.target, Target::Local, "{}", d.reason);
    assert!(d.scores.local_limit.is_none());
}

#[test]
fn a_request_over_the_local_context_window_goes_remote() {
    let m = msgs(QUICK);
    let q = Query {
        messages: &m,
        prompt_tokens: Some(8000),
        max_tokens: Some(500),
        ..Query::default()
    };
    let d = decide(&q, &both(), &policy(Mode::PreferLocal)).unwrap();
    assert_eq!(d.target, Target::Remote);
    assert!(d.reason.contains("context window (8192)"), "{}", d.reason);
    // Without max_tokens the expected answer length counts.
    let fits = Query {
        max_tokens: None,
        ..q
    };
    assert_eq!(
        decide(&fits, &both(), &policy(Mode::PreferLocal))
            .unwrap()
            .target,
        Target::Local
    );
    assert!(no_route(decide(&q, &both(), &policy(Mode::LocalOnly))).contains("context window"));
}

#[test]
fn a_loading_local_model_sends_requests_remote_unless_the_server_is_out() {
    let mut env = both();
    env.local = Some(LocalEnv {
        ready: false,
        ..LocalEnv::default()
    });
    let d = route(QUICK, &env, &policy(Mode::PreferLocal)).unwrap();
    assert_eq!(
        (d.target, d.reason.as_str()),
        (Target::Remote, "local model still loading")
    );
    // local-only waits for it; with no server it is the only way.
    assert_eq!(target(QUICK, &env, &policy(Mode::LocalOnly)), Target::Local);
    env.remote = Some(RemoteEnv {
        reachable: false,
        ..RemoteEnv::default()
    });
    assert_eq!(target(QUICK, &env, &Policy::default()), Target::Local);
}

#[test]
fn an_unreachable_or_absent_server_sends_everything_local() {
    let mut env = both();
    env.remote = Some(RemoteEnv {
        reachable: false,
        ..RemoteEnv::default()
    });
    for mode in [Mode::Auto, Mode::PreferRemote, Mode::PreferLocal] {
        let d = route(HEAVY_PROMPT, &env, &policy(mode)).unwrap();
        assert_eq!(d.target, Target::Local, "{mode:?}");
        assert!(d.reason.contains("unreachable"), "{}", d.reason);
    }
    let d = route(HEAVY_PROMPT, &local_only_env(), &Policy::default()).unwrap();
    assert_eq!(d.target, Target::Local);
    assert!(d.reason.contains("no server"), "{}", d.reason);
    assert_eq!(d.scores.remote_ms, None);
}

#[test]
fn no_local_model_sends_everything_remote() {
    for mode in [Mode::Auto, Mode::PreferLocal, Mode::PreferRemote] {
        let d = route(QUICK, &remote_only_env(), &policy(mode)).unwrap();
        assert_eq!(d.target, Target::Remote);
        assert!(d.reason.contains("no local model"), "{}", d.reason);
        assert_eq!(d.scores.local_ms, None);
    }
}

#[test]
fn prefer_modes_pick_their_side() {
    let d = route(HEAVY_PROMPT, &both(), &policy(Mode::PreferLocal)).unwrap();
    assert_eq!(
        (d.target, d.reason.as_str()),
        (Target::Local, "prefer-local")
    );
    let d = route(QUICK, &both(), &policy(Mode::PreferRemote)).unwrap();
    assert_eq!(
        (d.target, d.reason.as_str()),
        (Target::Remote, "prefer-remote")
    );
}

#[test]
fn only_modes_obey_or_say_what_to_change() {
    assert_eq!(
        target(HEAVY_PROMPT, &both(), &policy(Mode::LocalOnly)),
        Target::Local
    );
    assert_eq!(
        target(QUICK, &both(), &policy(Mode::RemoteOnly)),
        Target::Remote
    );
    let msg = no_route(route(QUICK, &remote_only_env(), &policy(Mode::LocalOnly)));
    assert!(msg.contains("load a local model"), "{msg}");
    let msg = no_route(route(QUICK, &local_only_env(), &policy(Mode::RemoteOnly)));
    assert!(msg.contains("no server is configured"), "{msg}");
    let mut env = both();
    env.remote = Some(RemoteEnv {
        reachable: false,
        ..RemoteEnv::default()
    });
    let msg = no_route(route(QUICK, &env, &policy(Mode::RemoteOnly)));
    assert!(
        msg.contains("unreachable") && msg.contains("prefer-remote"),
        "{msg}"
    );
    let nothing = Environment::default();
    assert!(no_route(route(QUICK, &nothing, &Policy::default())).contains("configure one"));
}

#[test]
fn strict_privacy_keeps_sensitive_prompts_local_in_every_mode() {
    for mode in [
        Mode::Auto,
        Mode::PreferLocal,
        Mode::PreferRemote,
        Mode::LocalOnly,
    ] {
        let d = route(EMAIL, &both(), &strict(mode)).unwrap();
        assert_eq!(d.target, Target::Local, "{mode:?}");
        assert_eq!(d.scores.sensitive, [Sensitive::Email]);
        if mode != Mode::LocalOnly {
            assert_eq!(
                d.reason,
                "strict privacy: contains an e-mail address, kept local"
            );
        }
    }
    // Even a heavy prompt, and even while the model still loads.
    let heavy = format!("{HEAVY_PROMPT} Send it to +33 6 12 34 56 78.");
    let mut env = both();
    env.local = Some(LocalEnv {
        ready: false,
        ..LocalEnv::default()
    });
    assert_eq!(target(&heavy, &env, &strict(Mode::Auto)), Target::Local);
    let msg = no_route(route(EMAIL, &both(), &strict(Mode::RemoteOnly)));
    assert!(
        msg.contains("strict privacy") && msg.contains("remote-only"),
        "{msg}"
    );
    let msg = no_route(route(EMAIL, &remote_only_env(), &strict(Mode::Auto)));
    assert!(
        msg.contains("an e-mail address") && msg.contains("no local model"),
        "{msg}"
    );
}

#[test]
fn standard_privacy_reports_sensitive_data_but_routes_freely() {
    let d = route(EMAIL, &both(), &policy(Mode::PreferRemote)).unwrap();
    assert_eq!(d.target, Target::Remote);
    assert_eq!(d.scores.sensitive, [Sensitive::Email]);
    assert_eq!(
        target(QUICK, &both(), &strict(Mode::PreferRemote)),
        Target::Remote
    );
}

#[test]
fn fallback_from_the_server_to_the_local_model() {
    let first = route(HEAVY_PROMPT, &both(), &Policy::default()).unwrap();
    assert_eq!(first.target, Target::Remote);
    let d = fallback(
        &first,
        &both(),
        &Policy::default(),
        "server unreachable: connection refused",
    )
    .unwrap();
    assert_eq!(d.target, Target::Local);
    assert_eq!(
        d.reason,
        "fallback: server unreachable (connection refused), answered locally"
    );
    assert_eq!(d.scores, first.scores);
    assert!(fallback(&first, &both(), &policy(Mode::RemoteOnly), "x").is_none());
    assert!(fallback(&first, &remote_only_env(), &Policy::default(), "x").is_none());
}

#[test]
fn fallback_from_the_local_model_to_the_server() {
    let first = route(QUICK, &both(), &Policy::default()).unwrap();
    assert_eq!(first.target, Target::Local);
    let d = fallback(&first, &both(), &Policy::default(), "out of memory").unwrap();
    assert_eq!(d.target, Target::Remote);
    assert_eq!(d.reason, "fallback: out of memory, answered by the server");
    assert!(fallback(&first, &both(), &policy(Mode::LocalOnly), "x").is_none());
    assert!(fallback(&first, &local_only_env(), &Policy::default(), "x").is_none());
    let mut offline = both();
    offline.remote = Some(RemoteEnv {
        reachable: false,
        ..RemoteEnv::default()
    });
    assert!(fallback(&first, &offline, &Policy::default(), "x").is_none());
}

#[test]
fn fallback_respects_strict_privacy_and_local_limits() {
    let first = route(EMAIL, &both(), &strict(Mode::Auto)).unwrap();
    assert!(fallback(&first, &both(), &strict(Mode::Auto), "model failed").is_none());
    // Without sensitive data strict privacy does not stop it.
    let plain = route(QUICK, &both(), &strict(Mode::Auto)).unwrap();
    assert!(fallback(&plain, &both(), &strict(Mode::Auto), "model failed").is_some());
    // A tool call cannot fall back to the local model.
    let m = msgs(QUICK);
    let q = Query {
        messages: &m,
        tools: true,
        ..Query::default()
    };
    let remote = decide(&q, &both(), &Policy::default()).unwrap();
    assert!(fallback(&remote, &both(), &Policy::default(), "HTTP 503").is_none());
}

#[test]
fn the_task_hint_and_max_tokens_shape_the_scores() {
    let text = "Tell me about the weather report for the weekend in the city of Lyon.";
    let m = msgs(text);
    let hinted = Query {
        messages: &m,
        task: Some(Task::Classify),
        ..Query::default()
    };
    let plain = Query {
        messages: &m,
        ..Query::default()
    };
    let (h, p) = (
        decide(&hinted, &both(), &Policy::default()).unwrap(),
        decide(&plain, &both(), &Policy::default()).unwrap(),
    );
    assert!(h.scores.difficulty < p.scores.difficulty);
    assert_eq!(h.target, Target::Local);
    assert!(
        h.reason.starts_with("quick: classification"),
        "{}",
        h.reason
    );
    let capped = Query {
        max_tokens: Some(3),
        ..plain
    };
    assert_eq!(
        decide(&capped, &both(), &Policy::default())
            .unwrap()
            .scores
            .expected_tokens,
        3
    );
}

#[test]
fn serde_shapes() {
    let p: Policy = serde_json::from_str(r#"{"mode":"prefer-remote","privacy":"strict"}"#).unwrap();
    assert_eq!(p, strict(Mode::PreferRemote));
    assert_eq!(
        serde_json::from_str::<Policy>("{}").unwrap(),
        Policy::default()
    );
    assert_eq!(Policy::default().mode, Mode::Auto);
    assert_eq!(
        serde_json::to_string(&Mode::LocalOnly).unwrap(),
        r#""local-only""#
    );
    assert_eq!(
        serde_json::from_str::<Task>(r#""summarize""#).unwrap(),
        Task::Summarize
    );
    assert_eq!(Target::Remote.to_string(), "remote");
    let d = route(EMAIL, &both(), &Policy::default()).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["target"], "local");
    assert_eq!(json["scores"]["sensitive"][0], "email");
    assert!(json["scores"].get("local_limit").is_none());
}

#[test]
fn empty_and_odd_queries_never_panic() {
    let none = Query::default();
    assert!(decide(&none, &both(), &Policy::default()).is_ok());
    let sys = vec![ChatMessage::new(Role::System, "")];
    let q = Query {
        messages: &sys,
        max_tokens: Some(0),
        prompt_tokens: Some(usize::MAX / 2),
        ..Query::default()
    };
    assert!(decide(&q, &both(), &Policy::default()).is_ok());
}

#[test]
fn dev_set_accuracy_is_at_least_90_percent_per_class() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/routing_dev.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("routing_dev.jsonl");
    let mut tally = [[0usize; 2]; 2]; // [local, remote] × [right, total]
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let expect: Target = serde_json::from_value(v["expect"].clone()).unwrap();
        let max_tokens = v["max_tokens"].as_u64().map(|m| m as usize);
        let task: Option<Task> = serde_json::from_value(v["task"].clone()).unwrap_or(None);
        let m = msgs(v["prompt"].as_str().unwrap());
        let q = Query {
            messages: &m,
            max_tokens,
            task,
            ..Query::default()
        };
        let got = decide(&q, &both(), &Policy::default()).unwrap().target;
        let class = usize::from(expect == Target::Remote);
        tally[class][0] += usize::from(got == expect);
        tally[class][1] += 1;
    }
    for (name, [right, total]) in ["local", "remote"].iter().zip(tally) {
        assert!(
            total > 0 && right * 10 >= total * 9,
            "{name}: {right}/{total}"
        );
    }
}
