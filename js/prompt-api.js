// tandem/prompt-api: the Prompt API (webmachinelearning/prompt-api's LanguageModel)
// on tandem's router, so a page written for a browser's built-in model runs on the
// local model in a worker or on the server. `install(options)` configures it once
// (options as Tandem.create's) and puts it in globalThis where the browser has no
// usable LanguageModel of its own.
import init, { Tandem } from "./tandem.js";
import { lazyTandem } from "./engine.js";
import { domError, fromTandem, quotaError } from "./prompt-errors.js";
import { canonical, checked, constraint, guided, unsupportedExpectation } from "./prompt-input.js";

/** The temperature each sampling mode asks for (`balanced`: the model's default). */
const TEMPERATURES = {
  "most-predictable": 0,
  predictable: 0.3,
  balanced: undefined,
  creative: 1,
  "most-creative": 1.5,
};

/** Lets only this module construct sessions, as the IDL has no constructor. */
const KEY = Symbol("LanguageModel");

/** What install() configured: the engine, the load's state and its listeners. */
let setup = null;

/** Configure the polyfill with `options` (Tandem.create's, plus `contextWindow`: a
 * cap on each session's window, default the local model's) and set
 * `globalThis.LanguageModel` to it unless the browser has one that is not
 * `unavailable`. Resolves to the LanguageModel now in globalThis. */
export async function install(options = {}) {
  const { contextWindow = Infinity, onProgress, ...create } = options;
  const listeners = new Set();
  const make = lazyTandem({
    ...create,
    onProgress: (progress) => {
      onProgress?.(progress);
      for (const listener of listeners) listener(progress);
    },
  });
  const state = { create, contextWindow, listeners, status: "idle" };
  state.engine = () => {
    if (state.status !== "ready") state.status = "loading";
    return make().then(
      (ai) => ((state.status = "ready"), ai),
      (error) => {
        state.status = "idle";
        throw error;
      },
    );
  };
  setup = state;
  const native = globalThis.LanguageModel;
  if (native && native !== LanguageModel) {
    const answer = await native.availability().catch(() => "unavailable");
    if (answer !== "unavailable") return native;
  }
  globalThis.LanguageModel = LanguageModel;
  return LanguageModel;
}

/** The Tandem the polyfill runs on (made by the first create() if not yet): for its
 * `route` events, `model`, `unload()`. */
export function engine() {
  if (!setup) return Promise.reject(domError("InvalidStateError", "install() was not called"));
  return setup.engine();
}

/** Why tandem cannot take create()'s or availability()'s `options`, or null; a
 * TypeError or RangeError for options no implementation takes. */
function unsupported({ expectedInputs, expectedOutputs, samplingMode = "balanced", tools }) {
  if (!(samplingMode in TEMPERATURES)) throw new TypeError(`unknown samplingMode "${samplingMode}"`);
  const inputs = unsupportedExpectation(expectedInputs);
  const outputs = unsupportedExpectation(expectedOutputs);
  if (!setup || (!setup.create.local && !setup.create.remote)) {
    return "no model: call install({local, remote}) first";
  }
  if (tools !== undefined) return "tools are not supported by tandem's Prompt API yet";
  return inputs ?? outputs;
}

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const stop = () => reject(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

/** The `m` of create()'s `monitor(m)`: `downloadprogress` events, loaded 0 to 1. */
class CreateMonitor extends EventTarget {
  #last = -1;

  /** A `downloadprogress` event at `fraction`, if it is past the last one (1 is kept
   * for the end of create()). */
  report(fraction, last = false) {
    const loaded = last ? 1 : Math.min(Math.floor(fraction * 65536) / 65536, 65535 / 65536);
    if (loaded <= this.#last) return;
    this.#last = loaded;
    this.dispatchEvent(new ProgressEvent("downloadprogress", { loaded, total: 1, lengthComputable: true }));
  }
}

/** A session with the model, as the explainer's LanguageModel. */
export class LanguageModel extends EventTarget {
  /** `available` once loaded (or in the browser's cache, or with a server only),
   * `downloading` while loading, `downloadable` before; `unavailable` for options
   * tandem cannot take or without install(). */
  static async availability(options = {}) {
    if (unsupported(options)) return "unavailable";
    if (!setup.create.local || setup.status === "ready") return "available";
    if (setup.status === "loading") return "downloading";
    await init();
    const url = new URL(setup.create.local.modelUrl, globalThis.location?.href).href;
    const cached = await Tandem.cached();
    return cached.some((entry) => entry.url === url) ? "available" : "downloadable";
  }

  /** A new session: the engine made (the model downloaded and loaded, with
   * `downloadprogress` events from 0 to 1), `initialPrompts` checked against the
   * context window. `signal` aborts the creation, and later destroys the session. */
  static async create(options = {}) {
    const { signal, monitor, initialPrompts, samplingMode = "balanced" } = options;
    signal?.throwIfAborted();
    const reason = unsupported(options);
    if (reason) throw domError("NotSupportedError", reason);
    const initial = initialPrompts === undefined ? [] : canonical(initialPrompts, false);
    const progress = new CreateMonitor();
    monitor?.(progress);
    progress.report(0);
    const bytes = ({ phase, loaded, total }) => {
      if (phase === "download" && total > 0) progress.report(loaded / total);
    };
    const state = setup;
    state.listeners.add(bytes);
    let ai;
    try {
      ai = await abortable(state.engine(), signal);
    } catch (error) {
      throw fromTandem(error, signal);
    } finally {
      state.listeners.delete(bytes);
    }
    progress.report(1, true);
    const window = Math.min(state.contextWindow, ai.model?.contextWindow ?? Infinity);
    const session = new LanguageModel(KEY, { ai, initial, samplingMode, window });
    await session.#start(signal);
    return session;
  }

  #ai;
  #initial;
  #turns = [];
  #usage = 0;
  #window;
  #samplingMode;
  #destroyer = new AbortController();
  #queue = Promise.resolve();
  #onoverflow = null;

  constructor(key, { ai, initial, samplingMode, window }) {
    if (key !== KEY) throw new TypeError("Illegal constructor: use LanguageModel.create()");
    super();
    this.#ai = ai;
    this.#initial = initial;
    this.#samplingMode = samplingMode;
    this.#window = window;
  }

  /** Count the initial prompts (a QuotaExceededError past the window) and tie the
   * session's life to create()'s signal. */
  async #start(signal) {
    this.#usage = await this.#count(this.#initial, signal);
    if (this.#usage > this.#window) throw quotaError(this.#usage, this.#window);
    signal?.addEventListener("abort", () => this.#destroy(signal.reason), { once: true });
  }

  /** Tokens in use: the initial prompts and the turns kept, as the model sees them. */
  get contextUsage() {
    return this.#usage;
  }

  /** Most tokens a session holds: the local model's window (or install()'s
   * `contextWindow` if smaller; Infinity with a server only and no cap). */
  get contextWindow() {
    return this.#window;
  }

  get samplingMode() {
    return this.#samplingMode;
  }

  get oncontextoverflow() {
    return this.#onoverflow;
  }

  set oncontextoverflow(handler) {
    if (this.#onoverflow) this.removeEventListener("contextoverflow", this.#onoverflow);
    this.#onoverflow = typeof handler === "function" ? handler : null;
    if (this.#onoverflow) this.addEventListener("contextoverflow", this.#onoverflow);
  }

  /** The answer to `input` as one string. */
  prompt(input, options = {}) {
    return this.#respond(input, options, () => {});
  }

  /** The answer to `input` as a ReadableStream of text pieces, each new (not the text
   * so far). Cancelling the stream aborts the answer. */
  promptStreaming(input, options = {}) {
    const cancel = new AbortController();
    return new ReadableStream({
      start: (controller) => {
        this.#respond(input, options, (piece) => controller.enqueue(piece), cancel.signal).then(
          () => controller.close(),
          (error) => controller.error(error),
        );
      },
      cancel: (reason) => cancel.abort(reason),
    });
  }

  /** Add `input` to the session without asking for an answer. */
  async append(input, options = {}) {
    const signal = this.#signal(options.signal);
    const messages = canonical(input, this.#holdsInput());
    await this.#inTurn(signal, async () => {
      await this.#makeRoom(messages, signal);
      this.#turns = [...this.#turns, messages];
      this.#usage = await this.#count(this.#history(), signal);
    });
  }

  /** Tokens `input` takes on its own, with the constraint's guidance when given. */
  async measureContextUsage(input, options = {}) {
    const signal = this.#signal(options.signal);
    const rule = constraint(options);
    return this.#count(guided(canonical(input, false), rule), signal);
  }

  /** A new session with this one's history and settings. */
  async clone(options = {}) {
    this.#signal(options.signal);
    const copy = new LanguageModel(KEY, {
      ai: this.#ai,
      initial: this.#initial,
      samplingMode: this.#samplingMode,
      window: this.#window,
    });
    copy.#turns = this.#turns;
    copy.#usage = this.#usage;
    return copy;
  }

  /** End the session: answers in flight and later calls reject with an AbortError. */
  destroy() {
    this.#destroy(domError("AbortError", "the session was destroyed"));
  }

  #destroy(reason) {
    if (!this.#destroyer.signal.aborted) this.#destroyer.abort(reason);
  }

  /** One signal for a call: the session's destruction and the call's own; throws
   * if either has aborted. */
  #signal(...signals) {
    const signal = AbortSignal.any([this.#destroyer.signal, ...signals.filter(Boolean)]);
    signal.throwIfAborted();
    return signal;
  }

  #holdsInput() {
    return this.#initial.length > 0 || this.#turns.length > 0;
  }

  #history() {
    return [...this.#initial, ...this.#turns.flat()];
  }

  /** Run `work` after the calls queued before it; rejects at once on abort. */
  #inTurn(signal, work) {
    const run = this.#queue.then(() => {
      signal.throwIfAborted();
      return work();
    });
    this.#queue = run.catch(() => {});
    return abortable(run, signal);
  }

  /** Prompt tokens of `messages`: counted by the local model's template, or the
   * router's estimate when only a server answers. */
  async #count(messages, signal) {
    if (messages.length === 0) return 0;
    try {
      if (this.#ai.model) return await this.#ai.countTokens(messages);
      return (await this.#ai.route({ messages })).scores.prompt_tokens;
    } catch (error) {
      throw fromTandem(error, signal);
    }
  }

  /** Drop the oldest turns until the history and `input` fit the window, firing
   * `contextoverflow` if any went; a QuotaExceededError, dropping none, if they
   * cannot fit. */
  async #makeRoom(input, signal) {
    let turns = this.#turns;
    const need = (kept) => this.#count([...this.#initial, ...kept.flat(), ...input], signal);
    let requested = await need(turns);
    while (requested > this.#window && turns.length > 0) {
      turns = turns.slice(1);
      requested = await need(turns);
    }
    if (requested > this.#window) throw quotaError(requested, this.#window);
    if (turns !== this.#turns) {
      this.#turns = turns;
      this.#usage = await this.#count(this.#history(), signal);
      this.dispatchEvent(new Event("contextoverflow"));
    }
  }

  /** Answer `input` after the calls before it, each new piece of text to `onPiece`;
   * the prompt and its answer join the history once whole. */
  async #respond(input, options, onPiece, cancel) {
    const signal = this.#signal(options.signal, cancel);
    const rule = constraint(options);
    const messages = canonical(input, this.#holdsInput());
    return this.#inTurn(signal, async () => {
      const sent = guided(messages, rule);
      await this.#makeRoom(sent, signal);
      let answer = "";
      try {
        const stream = await this.#ai.chat.completions.create({
          messages: [...this.#history(), ...sent],
          stream: true,
          signal,
          temperature: TEMPERATURES[this.#samplingMode],
          response_format: rule.response_format,
        });
        for await (const chunk of stream) {
          const piece = chunk.choices[0]?.delta?.content;
          if (piece) {
            answer += piece;
            onPiece(piece);
          }
        }
      } catch (error) {
        throw fromTandem(error, signal);
      }
      const result = checked(answer, rule);
      this.#turns = [...this.#turns, [...messages, { role: "assistant", content: result }]];
      this.#usage = await this.#count(this.#history(), signal);
      return result;
    });
  }
}
