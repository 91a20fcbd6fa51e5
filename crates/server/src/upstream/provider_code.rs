//! The one part of a provider's error that may reach the client: its code, when that
//! is a plain identifier. A provider's message never does (it may echo the request's
//! credentials).

use serde_json::Value;

/// The code of a provider's JSON error (`{"error":{"code" or "status" or "type": …}}`,
/// shared by OpenAI, Anthropic and Gemini, in a refusal's body or a stream's error
/// event), when it is a short plain identifier.
pub(super) fn provider_code(body: &Value) -> Option<String> {
    let error = &body["error"];
    let code = [&error["code"], &error["status"], &error["type"]]
        .into_iter()
        .find_map(|v| v.as_str())?;
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    plain.then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::provider_code;

    #[test]
    fn only_plain_provider_codes_are_kept() {
        for (error, want) in [
            (
                r#"{"message":"x","code":"context_length_exceeded"}"#,
                Some("context_length_exceeded"),
            ),
            (
                r#"{"message":"x","type":"invalid_request_error","code":null}"#,
                Some("invalid_request_error"),
            ),
            (
                r#"{"status":"INVALID_ARGUMENT","code":400}"#,
                Some("INVALID_ARGUMENT"),
            ),
            (r#"{"code":"Bearer sk-secret leaked"}"#, None),
            (r#"{"message":"Bearer sk-secret"}"#, None),
        ] {
            let body = serde_json::from_str(&format!(r#"{{"error":{error}}}"#)).unwrap();
            assert_eq!(provider_code(&body).as_deref(), want, "{error}");
        }
        assert_eq!(provider_code(&serde_json::Value::Null), None);
    }
}
