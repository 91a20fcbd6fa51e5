//! Where an embeddings request runs. Embeddings go local by default: the texts are
//! often the user's own notes, a local vector costs nothing, and vectors of one
//! index must all come from one model. The server answers when asked, when no
//! local encoder is loaded, or when the request names a model the local encoder is
//! not. `privacy: strict` keeps every text on the device (an embeddings request
//! sends its texts whole, so there is no sensitive part to single out).

use serde::Serialize;

use super::{Mode, Policy, Privacy, Target};
use crate::error::{Error, Result};

/// What the router knows when an embeddings request comes.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddingEnv<'a> {
    /// The local encoder's model name, when one is loaded.
    pub local: Option<&'a str>,
    /// Whether a server is configured, and whether it is believed reachable.
    pub remote: Option<bool>,
    /// The model the request names, if any.
    pub model: Option<&'a str>,
}

/// The side that embeds, and why (the detail of an embeddings request's `route` event).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "EmbeddingDecision"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbeddingRoute {
    /// The side that answers.
    pub target: Target,
    /// A short human sentence.
    pub reason: String,
}

impl EmbeddingEnv<'_> {
    /// Why the local encoder cannot take the request, if it cannot.
    fn local_block(&self) -> Option<String> {
        match (self.local, self.model) {
            (None, _) => Some("no local encoder is loaded".into()),
            (Some(local), Some(model)) if model != local => Some(format!(
                "the request names {model}, and the local encoder is {local}"
            )),
            _ => None,
        }
    }

    /// Why the server cannot take the request, if it cannot.
    fn remote_block(&self) -> Option<&'static str> {
        match self.remote {
            None => Some("no server is configured"),
            Some(false) => Some("the server is unreachable"),
            Some(true) => None,
        }
    }
}

/// The side that embeds under `policy`; `no_route` (saying what to change) when
/// neither may.
pub fn decide_embeddings(env: &EmbeddingEnv, policy: &Policy) -> Result<EmbeddingRoute> {
    let go = |target, reason: &str| {
        Ok(EmbeddingRoute {
            target,
            reason: reason.into(),
        })
    };
    let (local, remote) = (env.local_block(), env.remote_block());
    let strict = policy.privacy == Privacy::Strict;
    match (policy.mode, strict, local, remote) {
        (Mode::RemoteOnly, true, ..) => Err(Error::NoRoute(
            "strict privacy keeps embedded texts on the device, but route is remote-only; \
             use a local route or privacy \"standard\""
                .into(),
        )),
        (Mode::LocalOnly, _, Some(b), _) | (_, true, Some(b), _) => Err(Error::NoRoute(format!(
            "{} but {b}; load one (options.local.embeddings){}",
            match strict {
                true => "strict privacy keeps embedded texts on the device",
                false => "route is local-only",
            },
            match strict {
                true => "",
                false => " or allow the server (prefer-local)",
            },
        ))),
        (Mode::LocalOnly, ..) => go(Target::Local, "local-only"),
        (_, true, None, _) => go(Target::Local, "strict privacy: embedded on the device"),
        (Mode::RemoteOnly, _, _, Some(b)) => Err(Error::NoRoute(format!(
            "route is remote-only but {b}; use prefer-remote to let the local encoder answer"
        ))),
        (Mode::RemoteOnly, ..) => go(Target::Remote, "remote-only"),
        (_, _, Some(b), Some(rb)) => Err(Error::NoRoute(format!(
            "{b} and {rb}; load a local encoder (options.local.embeddings) or configure a server"
        ))),
        (_, _, Some(b), None) => go(Target::Remote, &format!("{b}, embedded by the server")),
        (_, _, None, Some(_)) => go(Target::Local, "embeddings run on the local encoder"),
        (Mode::PreferRemote, ..) => go(Target::Remote, "prefer-remote"),
        (Mode::PreferLocal | Mode::Auto, ..) => {
            go(Target::Local, "embeddings run on the local encoder")
        }
    }
}

/// The other side after `failed` failed with `why` (the server unreachable, the
/// worker gone); `None` when the mode is `*-only`, privacy is strict, or the other
/// side cannot take the request.
pub fn embedding_fallback(
    failed: &EmbeddingRoute,
    env: &EmbeddingEnv,
    policy: &Policy,
    why: &str,
) -> Option<EmbeddingRoute> {
    if matches!(policy.mode, Mode::LocalOnly | Mode::RemoteOnly)
        || policy.privacy == Privacy::Strict
    {
        return None;
    }
    let target = failed.target.other();
    let possible = match target {
        Target::Local => env.local_block().is_none(),
        Target::Remote => env.remote_block().is_none(),
    };
    possible.then(|| EmbeddingRoute {
        target,
        reason: format!("fallback: {why}, {}", target.answered()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: Mode, privacy: Privacy) -> Policy {
        Policy { mode, privacy }
    }

    const BOTH: EmbeddingEnv = EmbeddingEnv {
        local: Some("minilm"),
        remote: Some(true),
        model: None,
    };

    fn target(env: &EmbeddingEnv, mode: Mode, privacy: Privacy) -> Result<Target> {
        decide_embeddings(env, &policy(mode, privacy)).map(|r| r.target)
    }

    #[test]
    fn local_by_default_remote_when_asked_or_without_an_encoder() {
        let standard = Privacy::Standard;
        assert_eq!(target(&BOTH, Mode::Auto, standard).unwrap(), Target::Local);
        assert_eq!(
            target(&BOTH, Mode::PreferLocal, standard).unwrap(),
            Target::Local
        );
        assert_eq!(
            target(&BOTH, Mode::PreferRemote, standard).unwrap(),
            Target::Remote
        );
        assert_eq!(
            target(&BOTH, Mode::RemoteOnly, standard).unwrap(),
            Target::Remote
        );
        let no_encoder = EmbeddingEnv {
            local: None,
            ..BOTH
        };
        let route = decide_embeddings(&no_encoder, &Policy::default()).unwrap();
        assert_eq!(route.target, Target::Remote);
        assert!(
            route.reason.contains("no local encoder"),
            "{}",
            route.reason
        );
        let other_model = EmbeddingEnv {
            model: Some("text-embedding-3-small"),
            ..BOTH
        };
        assert_eq!(
            target(&other_model, Mode::Auto, standard).unwrap(),
            Target::Remote
        );
        let same_model = EmbeddingEnv {
            model: Some("minilm"),
            ..BOTH
        };
        assert_eq!(
            target(&same_model, Mode::Auto, standard).unwrap(),
            Target::Local
        );
        let offline = EmbeddingEnv {
            remote: Some(false),
            ..BOTH
        };
        assert_eq!(
            target(&offline, Mode::PreferRemote, standard).unwrap(),
            Target::Local
        );
    }

    #[test]
    fn strict_privacy_keeps_texts_local_or_refuses() {
        let strict = Privacy::Strict;
        assert_eq!(
            target(&BOTH, Mode::PreferRemote, strict).unwrap(),
            Target::Local
        );
        let refused = |env: &EmbeddingEnv, mode| target(env, mode, strict).unwrap_err();
        assert_eq!(refused(&BOTH, Mode::RemoteOnly).code(), "no_route");
        let no_encoder = EmbeddingEnv {
            local: None,
            ..BOTH
        };
        let error = refused(&no_encoder, Mode::Auto);
        assert!(error.to_string().contains("strict privacy"), "{error}");
    }

    #[test]
    fn only_modes_refuse_what_their_side_cannot_do() {
        let nothing = EmbeddingEnv::default();
        let error = target(&nothing, Mode::Auto, Privacy::Standard).unwrap_err();
        assert!(error.to_string().contains("configure a server"), "{error}");
        let no_server = EmbeddingEnv {
            remote: None,
            ..BOTH
        };
        assert!(target(&no_server, Mode::RemoteOnly, Privacy::Standard).is_err());
        let no_encoder = EmbeddingEnv {
            local: None,
            ..BOTH
        };
        assert!(target(&no_encoder, Mode::LocalOnly, Privacy::Standard).is_err());
    }

    #[test]
    fn a_failed_side_falls_back_where_the_policy_allows() {
        let auto = Policy::default();
        let local = decide_embeddings(&BOTH, &auto).unwrap();
        let back = embedding_fallback(&local, &BOTH, &auto, "the worker crashed").unwrap();
        assert_eq!(back.target, Target::Remote);
        assert!(
            back.reason.starts_with("fallback: the worker crashed"),
            "{}",
            back.reason
        );
        let remote_only = policy(Mode::RemoteOnly, Privacy::Standard);
        let remote = decide_embeddings(&BOTH, &remote_only).unwrap();
        assert!(embedding_fallback(&remote, &BOTH, &remote_only, "down").is_none());
        let other_model = EmbeddingEnv {
            model: Some("text-embedding-3-small"),
            ..BOTH
        };
        let remote = decide_embeddings(&other_model, &auto).unwrap();
        assert!(embedding_fallback(&remote, &other_model, &auto, "down").is_none());
    }
}
