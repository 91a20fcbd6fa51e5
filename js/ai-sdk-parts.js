// tandem's chat chunks as the AI SDK's stream parts (LanguageModelV4StreamPart):
// response metadata, text, tool calls assembled from their deltas, and the finish
// with usage and tandem's route in providerMetadata.tandem; and those parts folded
// into what doGenerate returns.

const FINISH = {
  stop: "stop",
  length: "length",
  tool_calls: "tool-calls",
  content_filter: "content-filter",
};

const TEXT = "text-0";

/** The parts of one reply, fed its chunks in order. */
export class Parts {
  #first = true;
  #text = false;
  #calls = new Map();
  #finish;
  #usage;
  #tandem;

  /** The parts `chunk` adds (`raw`: the chunk itself too). */
  *chunk(chunk, raw) {
    if (raw) yield { type: "raw", rawValue: chunk };
    if (this.#first) {
      this.#first = false;
      yield {
        type: "response-metadata",
        id: chunk.id,
        modelId: chunk.model,
        timestamp: new Date(chunk.created * 1000),
      };
    }
    for (const { delta = {}, finish_reason } of chunk.choices ?? []) {
      if (delta.content) {
        if (!this.#text) yield { type: "text-start", id: TEXT };
        this.#text = true;
        yield { type: "text-delta", id: TEXT, delta: delta.content };
      }
      for (const call of delta.tool_calls ?? []) yield* this.#toolDelta(call);
      if (finish_reason) this.#finish = finish_reason;
    }
    if (chunk.usage) this.#usage = chunk.usage;
    if (chunk.tandem) this.#tandem = chunk.tandem;
  }

  /** A piece of a tool call: its start (id and name come first) and arguments. */
  *#toolDelta({ index = 0, id, function: fn = {} }) {
    let call = this.#calls.get(index);
    if (!call) {
      call = { id: id ?? `call_${index}`, name: fn.name, input: "" };
      this.#calls.set(index, call);
      yield { type: "tool-input-start", id: call.id, toolName: call.name };
    }
    if (fn.arguments) {
      call.input += fn.arguments;
      yield { type: "tool-input-delta", id: call.id, delta: fn.arguments };
    }
  }

  /** The parts after the last chunk: the ends, each whole tool call, the finish. */
  *end() {
    if (this.#text) yield { type: "text-end", id: TEXT };
    for (const call of this.#calls.values()) {
      yield { type: "tool-input-end", id: call.id };
      yield { type: "tool-call", toolCallId: call.id, toolName: call.name, input: call.input || "{}" };
    }
    const usage = this.#usage;
    yield {
      type: "finish",
      finishReason: { unified: FINISH[this.#finish] ?? "other", raw: this.#finish },
      usage: {
        inputTokens: {
          total: usage?.prompt_tokens,
          noCache: undefined,
          cacheRead: undefined,
          cacheWrite: undefined,
        },
        outputTokens: { total: usage?.completion_tokens, text: undefined, reasoning: undefined },
        raw: usage,
      },
      providerMetadata: this.#tandem ? { tandem: this.#tandem } : undefined,
    };
  }
}

/** A ReadableStream of the parts of `chunks` (tandem's async iterator), opened by
 * `stream-start` with `warnings`. An error of the iterator (`aborted` on abort)
 * errors the stream; cancelling it stops the reply. */
export function partStream(chunks, warnings, raw) {
  const parts = new Parts();
  const iterator = chunks[Symbol.asyncIterator]();
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue({ type: "stream-start", warnings });
      }
      // A chunk may make no part (a finish reason alone): read on until one does, as
      // the stream pulls again only after an enqueue.
      for (let made = 0; made === 0; ) {
        const { value, done } = await iterator.next();
        for (const part of done ? parts.end() : parts.chunk(value, raw)) {
          controller.enqueue(part);
          made++;
        }
        if (done) return controller.close();
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** doGenerate's result from a part stream: the text and tool calls as content, the
 * finish, usage, metadata and warnings. */
export async function folded(stream) {
  const result = { content: [], warnings: [] };
  let text;
  for await (const part of stream) {
    switch (part.type) {
      case "stream-start":
        result.warnings = part.warnings;
        break;
      case "response-metadata": {
        const { type, ...response } = part;
        result.response = response;
        break;
      }
      case "text-start":
        text = { type: "text", text: "" };
        result.content.push(text);
        break;
      case "text-delta":
        text.text += part.delta;
        break;
      case "tool-call":
        result.content.push(part);
        break;
      case "finish":
        Object.assign(result, {
          finishReason: part.finishReason,
          usage: part.usage,
          providerMetadata: part.providerMetadata,
        });
        break;
    }
  }
  return result;
}
