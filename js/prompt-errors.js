// The Prompt API's errors: DOMExceptions named as the explainer names them, made from
// tandem's coded errors or from the polyfill's own checks.

/** The DOMException name of each tandem error code (others are `UnknownError`). */
const NAMES = {
  aborted: "AbortError",
  context_length_exceeded: "QuotaExceededError",
  invalid_request: "NotSupportedError",
  unsupported_model: "NotSupportedError",
  no_route: "NotSupportedError",
  model_download_failed: "NetworkError",
  integrity_mismatch: "NetworkError",
  remote_unavailable: "NetworkError",
  rate_limited: "NetworkError",
  unauthorized: "NotAllowedError",
  remote_error: "OperationError",
};

/** A DOMException named `name`; `cause`, when given, is the error behind it. */
export function domError(name, message, cause) {
  const error = new DOMException(message, name);
  if (cause !== undefined) Object.defineProperty(error, "cause", { value: cause });
  return error;
}

/** What the page sees for `error`, thrown by tandem while `signal` ran: the signal's
 * reason once it aborted, a DOMException already made as it is, else the DOMException
 * of its code (`cause` keeps tandem's error, with its `code`). */
export function fromTandem(error, signal) {
  if (signal?.aborted) return signal.reason;
  if (error instanceof DOMException || error instanceof TypeError) return error;
  return domError(NAMES[error?.code] ?? "UnknownError", error?.message ?? String(error), error);
}

/** The explainer's QuotaExceededError: `requested` tokens against `quota`. Where the
 * browser has WebIDL's QuotaExceededError class, an instance of it. */
export function quotaError(requested, quota) {
  const message = `the input needs ${requested} tokens; the context window holds ${quota}`;
  if (typeof globalThis.QuotaExceededError === "function") {
    return new globalThis.QuotaExceededError(message, { requested, quota });
  }
  const error = new DOMException(message, "QuotaExceededError");
  Object.defineProperties(error, { requested: { value: requested }, quota: { value: quota } });
  return error;
}

