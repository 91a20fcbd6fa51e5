// The chat panel: the conversation streams in, each answer with its route badge,
// time to first token and speed; Stop aborts, Enter sends, Shift+Enter breaks a line.
import { routeBadge } from "./badge.js";
import { $, duration, el } from "./dom.js";
import { hideNotice, showNotice } from "./notice.js";
import { chatSettings } from "./routing.js";

/** Sampling temperature: a 135M-parameter model wanders at OpenAI's default of 1. */
const TEMPERATURE = 0.3;

export class Chat {
  /** The panel, answering with `ai` through `jobs`; each answer goes to
   * `record(answer)` (see Chart.add). */
  constructor(ai, jobs, record) {
    this.ai = ai;
    this.jobs = jobs;
    this.record = record;
    this.history = [];
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    $("prompt").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      } else if (event.key === "Escape") {
        jobs.stop();
      }
    });
    $("stop").addEventListener("click", () => jobs.stop());
    $("new-chat").addEventListener("click", () => {
      this.history = [];
      $("messages").replaceChildren();
      $("prompt").focus();
    });
  }

  async send() {
    const content = $("prompt").value.trim();
    if (!content || this.jobs.busy) return;
    hideNotice();
    $("prompt").value = "";
    document.getElementById("empty")?.remove();
    this.history.push({ role: "user", content });
    this.append("user").body.textContent = content;
    const answer = this.append("assistant");
    const badge = routeBadge();
    answer.head.insertBefore(badge.element, answer.stats);
    answer.li.append(badge.reason);
    answer.body.classList.add("streaming");

    const started = performance.now();
    let text = "";
    let last;
    try {
      await this.jobs.run(badge.decided, async (signal) => {
        const options = { stream: true, temperature: TEMPERATURE, signal, ...chatSettings() };
        // A base model (no chat template) continues the text it is given.
        const chunks = this.ai.model?.chat === false
          ? await this.ai.completions.create({ prompt: content, ...options })
          : await this.ai.chat.completions.create({ messages: this.history, ...options });
        for await (const chunk of chunks) {
          const choice = chunk.choices[0];
          text += choice?.text ?? choice?.delta?.content ?? "";
          answer.body.textContent = text;
          last = chunk;
          this.follow();
        }
      });
      const info = last.tandem;
      badge.done(info);
      answer.stats.textContent =
        `first token ${duration(info.time_to_first_token_ms)} · ` +
        `${info.decode_tokens_per_s.toFixed(1)} tok/s · ${last.usage.completion_tokens} tokens`;
      this.history.push({ role: "assistant", content: text });
      this.record({ route: info.route, ms: performance.now() - started,
        firstTokenMs: info.time_to_first_token_ms, what: "chat" });
    } catch (e) {
      const stopped = e.code === "aborted";
      if (!stopped) {
        badge.failed();
        showNotice(e);
      }
      answer.li.append(el("p", stopped ? "stopped" : "failed",
        stopped ? "Stopped. Send a message to go on." : `Not answered (${e.code ?? e.name}).`));
      // The conversation keeps what was said: a partial answer stays, a failed turn goes.
      if (text) this.history.push({ role: "assistant", content: text });
      else this.history.pop();
      this.record({ route: badge.element.dataset.route ?? null, ms: performance.now() - started,
        what: "chat", outcome: stopped ? "stopped" : "failed" });
    } finally {
      answer.body.classList.remove("streaming");
      this.follow();
    }
  }

  /** A new message in the list: `{li, head, body, stats}`. */
  append(role) {
    const li = el("li", `message ${role}`);
    const head = el("div", "message-head");
    head.append(el("span", "who", role === "user" ? "You" : "tandem"));
    const stats = el("span", "stats");
    head.append(stats);
    const body = el("div", "body");
    li.append(head, body);
    $("messages").append(li);
    this.follow();
    return { li, head, body, stats };
  }

  /** Keep the newest text in view. */
  follow() {
    const list = $("messages");
    list.scrollTop = list.scrollHeight;
  }
}
