// The tandem demo: one Tandem with the model (and a sentence encoder) in this page
// and the server that serves it, shown panel by panel. The model menu switches between the models `make demo`
// fetched (the page reloads with `?model=`). `?model=URL` and `?server=URL` point it
// elsewhere,
// `?threads=N` sets the model's threads (default: up to 4 of the machine's cores when
// the page is cross-origin isolated, as tandem-server serves it, else 1).
import init, { Tandem } from "../pkg/tandem.js";
import { Chart } from "./chart.js";
import { Chat } from "./chat.js";
import { $ } from "./dom.js";
import { Jobs } from "./jobs.js";
import { ModelStatus } from "./model-status.js";
import { showNotice } from "./notice.js";
import { quickTasks } from "./quick-tasks.js";
import { semanticSearch } from "./search.js";
import { watchServer } from "./server-status.js";

const params = new URLSearchParams(location.search);
const modelUrl = new URL(params.get("model") ?? "../models/SmolLM2-135M-Instruct.Q4_1.gguf",
  import.meta.url).href;
const serverUrl = params.get("server") ?? `${location.origin}/v1`;
// The Q8_0 GGUF of all-MiniLM-L6-v2: a quarter of the float weights' download.
const encoderUrl = new URL("../models/all-MiniLM-L6-v2/all-MiniLM-L6-v2.q8_0.gguf", import.meta.url).href;
const threads = Number(params.get("threads") ??
  (crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1));

const model = new ModelStatus(modelUrl, (url) => Tandem.evict(url));
const choice = $("model-choice");
const chosen = [...choice.options].find((o) => new URL(o.value, location.href).href === modelUrl);
if (chosen) choice.value = chosen.value;
else choice.add(new Option(decodeURIComponent(modelUrl.split("/").pop()), modelUrl, true, true));
choice.addEventListener("change", () => {
  params.set("model", choice.value);
  location.search = params.toString();
});
const checkServer = watchServer(serverUrl);
const chart = new Chart($("chart"));

async function start() {
  await init();
  const ai = await Tandem.create({
    local: { modelUrl, threads, embeddings: { modelUrl: encoderUrl } },
    remote: { baseUrl: serverUrl },
    onProgress: (progress) => model.progress(progress),
    onWarning: (warning) =>
      warning.code === "local_unavailable" ? model.failed(warning) : showNotice(warning),
  });
  if (ai.model) model.ready(ai.model);

  // The prompt stays editable (and Escape stops) while an answer runs.
  const inputs = [$("send"), $("new-chat"), ...document.querySelectorAll("[data-task]")];
  const jobs = new Jobs(ai, (busy) => {
    for (const input of inputs) input.disabled = busy;
    $("stop").disabled = !busy;
    if (!busy) checkServer();
  });
  const record = (answer) => chart.add(answer);
  new Chat(ai, jobs, record);
  quickTasks(ai, jobs, record);
  for (const input of [$("prompt"), ...inputs]) input.disabled = false;
  $("prompt").focus();
  document.body.dataset.ready = "true";
  await semanticSearch(ai, jobs, record);
}

start().catch((e) => {
  model.failed(e);
  showNotice(e);
});
