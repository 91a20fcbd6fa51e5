// The tandem demo: download the model with a progress bar, then stream replies into
// the page one token per event-loop turn so the page stays responsive and Stop works.
import init, { LocalModel } from "/pkg/tandem.js";

const MODEL_URL = "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const $ = (id) => document.getElementById(id);

let model;
let reply; // the ReplyStream being generated, if any

function showError(e) {
  $("error").textContent = e && e.code ? `${e.code}: ${e.message}` : String(e);
}

/** Fetch `url` into one Uint8Array, reporting bytes received to `progress`. */
async function download(url, progress) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const chunks = [];
  let received = 0;
  for (const reader = response.body.getReader(); ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    progress(received, total);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function load() {
  await init();
  const mb = (n) => (n / 1e6).toFixed(1);
  const bytes = await download(MODEL_URL, (received, total) => {
    $("progress").value = total ? received / total : 0;
    $("status").textContent = `Downloading model: ${mb(received)} / ${mb(total)} MB`;
  });
  $("status").textContent = "Loading model…";
  await new Promise((r) => setTimeout(r)); // let the status paint before the busy load
  model = new LocalModel(bytes);
  $("progress").hidden = true;
  $("status").textContent = `Ready: ${model.name}`;
  $("prompt").disabled = $("send").disabled = false;
}

async function send(event) {
  event.preventDefault();
  const content = $("prompt").value.trim();
  if (!content || reply) return;
  $("reply").textContent = $("stats").textContent = $("error").textContent = "";
  $("send").disabled = true;
  $("stop").disabled = false;
  try {
    reply = model.stream([{ role: "user", content }], { max_tokens: 256, temperature: 0 });
    for (;;) {
      const step = reply.next();
      $("reply").textContent += step.text; // a token's text, or the last held-back text
      if (step.done) {
        const t = step.timings;
        $("stats").textContent =
          `${step.usage.completion_tokens} tokens · ${step.finish_reason} · ` +
          `first token ${t.time_to_first_token_ms.toFixed(0)} ms · ` +
          `prefill ${t.prefill_tokens_per_s.toFixed(1)} tok/s · ` +
          `decode ${t.decode_tokens_per_s.toFixed(1)} tok/s`;
        break;
      }
      await new Promise((r) => setTimeout(r)); // paint, and let Stop's click run
    }
  } catch (e) {
    if (e.code === "aborted") $("stats").textContent = "Stopped.";
    else showError(e);
  } finally {
    reply?.free();
    reply = undefined;
    $("send").disabled = false;
    $("stop").disabled = true;
  }
}

$("chat").addEventListener("submit", send);
$("stop").addEventListener("click", () => reply?.cancel());
load().catch((e) => {
  $("status").textContent = "Could not load the model.";
  showError(e);
});
