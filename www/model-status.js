// The local model's card: a progress bar with bytes and percent while it downloads,
// where it came from (network or cache), what it takes, eviction from the cache, and
// a failed load with its next step.
import { $, duration, megabytes } from "./dom.js";
import { explain } from "./notice.js";

export class ModelStatus {
  /** The card of the model downloaded from `url`; `evict(url)` removes it from the cache. */
  constructor(url, evict) {
    this.url = url;
    $("evict").addEventListener("click", async () => {
      $("evict").disabled = true;
      try {
        const removed = await evict(url);
        $("model-detail").textContent = removed
          ? "Removed from the cache. It keeps running until you leave; the next visit downloads it again."
          : "It was not in the cache.";
      } catch (e) {
        $("model-detail").textContent = `Could not evict it (${e.code ?? e.name}: ${e.message}).`;
        $("evict").disabled = false;
      }
    });
    $("retry").addEventListener("click", () => location.reload());
  }

  /** `onProgress` of `Tandem.create`: bytes while downloading, then loading; the
   * chat model's file, then the sentence encoder's. */
  progress({ file, phase, loaded, total }) {
    const percent = total ? Math.floor((loaded / total) * 100) : 0;
    $("model-bar").setAttribute("aria-valuenow", String(percent));
    $("model-bar").firstElementChild.style.width = `${percent}%`;
    const bytes = total ? `${megabytes(loaded)} of ${megabytes(total)} (${percent}%)` : megabytes(loaded);
    const what = file === "encoder" ? "the sentence encoder" : "the model";
    this.state(
      phase === "download" ? `Downloading ${what}: ${bytes}` : `Checking and loading ${what}: ${percent}%`,
      "busy",
    );
  }

  /** The model is ready (`ai.model`). */
  ready(info) {
    $("model-bar").hidden = true;
    const from = info.fromCache ? "loaded from cache" : "downloaded";
    const file = decodeURIComponent(new URL(this.url).pathname.split("/").pop());
    const { compileMs, fetchMs, verifyMs, buildMs } = info.loadPhases;
    const phases = `worker ${duration(compileMs)}, read ${duration(fetchMs)}, ` +
      `sha256 ${duration(verifyMs)}, build ${duration(buildMs)}`;
    this.state(`${file.replace(/\.gguf$/i, "")} · ${from} in ${duration(info.loadMs)} (${phases})`, "ok");
    const kind = info.chat ? "chat" : "base model: continues your text";
    $("model-detail").textContent =
      `${info.architecture} · ${Math.round(info.parameters / 1e6)}M parameters · ${kind} · ` +
      `${megabytes(info.bytes)} file · ${megabytes(info.memoryBytes)} in memory · ` +
      `${info.contextWindow}-token context · ${info.threads === 1 ? "1 thread" : `${info.threads} threads`}` +
      (info.relaxedSimd ? " · relaxed SIMD" : "");
    $("evict").disabled = false;
  }

  /** The model did not load: `problem` is the error, or the `local_unavailable`
   * warning (its `cause` is the error's code) when the server answers instead. */
  failed(problem) {
    const code = problem.cause ?? problem.code;
    const [title, next] = explain(code);
    $("model-bar").hidden = true;
    this.state(`${title} ${next}`, "error");
    $("model-detail").textContent = `${code}: ${problem.message}`;
    $("retry").hidden = false;
    $("evict").disabled = false;
  }

  state(text, kind) {
    $("model-state").textContent = text;
    $("model-state").dataset.state = kind;
  }
}
