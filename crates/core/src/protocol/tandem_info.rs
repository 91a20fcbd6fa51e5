//! tandem's extension on every response and last chunk (`tandem`): where the answer
//! was made, why, and the router's numbers behind that choice.

use serde::{Deserialize, Serialize};

/// tandem's extension object on every response and last chunk: where the answer
/// was made, why, and how fast.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TandemInfo {
    /// `local` (in the browser), `remote` (a server), or `local→remote` (a local
    /// answer judged unsure and replaced by the server's).
    #[cfg_attr(feature = "ts", ts(type = r#""local" | "remote" | "local→remote""#))]
    pub route: String,
    /// The model that answered.
    pub model: String,
    /// Prompt tokens read per second.
    pub prefill_tokens_per_s: f64,
    /// Tokens generated per second after the first.
    pub decode_tokens_per_s: f64,
    /// From the request to the first token.
    pub time_to_first_token_ms: f64,
    /// Why the router chose this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the router weighed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    /// Why the first choice failed, when the other engine answered instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// With `escalate`: whether the local answer was replaced by the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated: Option<bool>,
}

/// The numbers behind a decision, reported to the app.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "RouteScores"))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Scores {
    /// Probability that the query is heavy, 0..1.
    pub difficulty: f32,
    /// Expected answer length in tokens.
    pub expected_tokens: usize,
    /// Prompt tokens (counted, or estimated).
    pub prompt_tokens: usize,
    /// Expected time to the full answer locally, when a local model is configured.
    pub local_ms: Option<f64>,
    /// Expected time to the full answer from the server, when one is configured.
    pub remote_ms: Option<f64>,
    /// Kinds of sensitive data in the conversation.
    pub sensitive: Vec<Sensitive>,
    /// Why the local model cannot take this request at all (tools, context window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_limit: Option<String>,
}

/// A kind of sensitive data found in a prompt.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Sensitive {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A payment card number that passes the Luhn check.
    Card,
    /// An IBAN that passes the mod-97 check.
    Iban,
}

impl Sensitive {
    /// How a reason names it: "an e-mail address".
    pub fn describe(self) -> &'static str {
        match self {
            Sensitive::Email => "an e-mail address",
            Sensitive::Phone => "a phone number",
            Sensitive::Card => "a card number",
            Sensitive::Iban => "an IBAN",
        }
    }
}
