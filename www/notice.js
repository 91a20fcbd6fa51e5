// What went wrong, in words, with the next step for the person at the page: one
// entry per stable error code tandem throws (and per warning it sends).
import { $ } from "./dom.js";

const EXPLAIN = {
  model_download_failed: ["The model could not be downloaded.",
    "Check the connection, then Retry. Meanwhile the server answers."],
  integrity_mismatch: ["The model file is damaged.",
    "Evict it from the cache, then Retry. Meanwhile the server answers."],
  model_invalid: ["The model file is damaged.",
    "Evict it from the cache, then Retry. Meanwhile the server answers."],
  unsupported_model: ["This model file is not supported.",
    "Point the page at a llama GGUF that tandem runs (see the README)."],
  out_of_memory: ["Not enough memory for the local model.",
    "Close other tabs and reload, or choose Server only."],
  worker_crashed: ["The local model stopped.", "Reload the page to start it again."],
  remote_unavailable: ["The server is unreachable.",
    "Start it with make demo, or choose Local only."],
  rate_limited: ["The server is busy.", "Wait a moment and send again."],
  unauthorized: ["The server refused the request.", "Check the token the page sends."],
  remote_error: ["The server failed to answer.", "Send again, or choose Local only."],
  context_length_exceeded: ["The conversation is too long for the local model.",
    "Start a new chat, or choose Auto or Server only."],
  no_route: ["Nothing may answer this with these settings.",
    "Change the mode, or turn strict privacy off."],
  invalid_request: ["The request was refused.", "Check the settings and send again."],
  cache_quota_exceeded: ["The model could not be kept in the cache.",
    "Free some disk space; until then it is downloaded on every visit."],
  cache_write_failed: ["The model could not be kept in the cache.",
    "It is downloaded again on the next visit."],
  cache_unavailable: ["This browser gives the page no cache.",
    "The model is downloaded on every visit."],
};

/** `[title, next step]` for an error or warning code. */
export function explain(code, retryAfter) {
  const [title, next] = EXPLAIN[code] ?? ["Something went wrong.", "Reload the page and try again."];
  return code === "rate_limited" && retryAfter ? [title, `Send again in ${retryAfter} s.`] : [title, next];
}

/** Show `problem` (an error or warning with `code` and `message`) above the panels. */
export function showNotice(problem) {
  const [title, next] = explain(problem.code, problem.retryAfter);
  $("notice-title").textContent = title;
  $("notice-text").textContent = problem.code ? `(${problem.code}: ${problem.message})` : String(problem);
  $("notice-next").textContent = next;
  $("notice").dataset.code = problem.code ?? "";
  $("notice").hidden = false;
}

/** Hide the notice. */
export function hideNotice() {
  $("notice").hidden = true;
}

$("notice-close").addEventListener("click", hideNotice);
