// The routing controls: mode, strict privacy, cascade and the longest answer, read
// fresh for every request (tandem takes them per request).
import { $ } from "./dom.js";

const form = $("routing");

/** The chat request fields the controls set. */
export function chatSettings() {
  const max = Number(form.elements.max_tokens.value);
  return {
    ...taskSettings(),
    escalate: form.elements.escalate.checked,
    max_tokens: Number.isInteger(max) && max > 0 ? max : 256,
  };
}

/** The options quick tasks take from the controls. */
export function taskSettings() {
  return {
    route: form.elements.route.value,
    privacy: form.elements.privacy.checked ? "strict" : "standard",
  };
}

form.addEventListener("submit", (event) => event.preventDefault());
