// The tandem demo: the model downloads once (with a progress bar, then from the
// cache) and runs in tandem's worker; replies stream in and Stop aborts them.
import init, { Tandem } from "/pkg/tandem.js";

const MODEL_URL = "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const $ = (id) => document.getElementById(id);

let ai;
let controller; // aborts the reply being generated, if any

function showError(e) {
  $("error").textContent = e && e.code ? `${e.code}: ${e.message}` : String(e);
}

async function load() {
  await init();
  const mb = (n) => (n / 1e6).toFixed(1);
  ai = await Tandem.create({
    local: { modelUrl: MODEL_URL },
    onProgress: ({ phase, loaded, total }) => {
      $("progress").value = total ? loaded / total : 0;
      $("status").textContent = phase === "download"
        ? `Downloading model: ${mb(loaded)} / ${mb(total)} MB`
        : "Loading model…";
    },
    onWarning: (w) => showError(w),
  });
  $("progress").hidden = true;
  const { model, fromCache, loadMs } = ai.model;
  $("status").textContent =
    `Ready: ${model} (${fromCache ? "loaded from cache" : "downloaded"} in ${(loadMs / 1000).toFixed(1)} s)`;
  $("prompt").disabled = $("send").disabled = false;
}

async function send(event) {
  event.preventDefault();
  const content = $("prompt").value.trim();
  if (!content || controller) return;
  $("reply").textContent = $("stats").textContent = $("error").textContent = "";
  $("send").disabled = true;
  $("stop").disabled = false;
  controller = new AbortController();
  try {
    const stream = await ai.chat.completions.create({
      messages: [{ role: "user", content }],
      max_tokens: 256,
      temperature: 0,
      stream: true,
      signal: controller.signal,
    });
    for await (const chunk of stream) {
      $("reply").textContent += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) {
        const t = chunk.tandem;
        $("stats").textContent =
          `${chunk.usage.completion_tokens} tokens · ran ${t.route} · ` +
          `first token ${t.time_to_first_token_ms.toFixed(0)} ms · ` +
          `prefill ${t.prefill_tokens_per_s.toFixed(1)} tok/s · ` +
          `decode ${t.decode_tokens_per_s.toFixed(1)} tok/s`;
      }
    }
  } catch (e) {
    if (e.code === "aborted") $("stats").textContent = "Stopped.";
    else showError(e);
  } finally {
    controller = undefined;
    $("send").disabled = false;
    $("stop").disabled = true;
  }
}

$("chat").addEventListener("submit", send);
$("stop").addEventListener("click", () => controller?.abort());
load().catch((e) => {
  $("status").textContent = "Could not load the model.";
  showError(e);
});
