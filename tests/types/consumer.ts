// A strict TypeScript app of every public call, against the built package's types
// (pkg/tandem.d.ts, pkg/prompt-api.d.ts, pkg/ai-sdk.d.ts). scripts/test.sh runs
// `tsc -p tests/types` after building pkg/: it compiles, and each @ts-expect-error
// line (a wrong input) must fail, which proves the types are not `any`.
import init, {
  Tandem,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChunkStream,
  type EmbeddingVector,
  type ModelInfo,
  type RouteEventDetail,
  type TandemError,
  type TandemRequest,
  type TextCompletion,
  type TextStream,
  type ToolCall,
} from "../../pkg/tandem.js";
import { install, engine, LanguageModel } from "../../pkg/prompt-api.js";
import { createTandem } from "../../pkg/ai-sdk.js";

const controller = new AbortController();

async function chat(ai: Tandem): Promise<void> {
  const request: TandemRequest = {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Really brief." }] },
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "weather", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "18 C" },
    ],
    max_tokens: 64,
    temperature: 0,
    stop: ["\n\n"],
    logprobs: true,
    top_logprobs: 2,
    tools: [
      {
        type: "function",
        function: {
          name: "weather",
          description: "Today's weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ],
    tool_choice: { type: "function", function: { name: "weather" } },
    parallel_tool_calls: false,
    chat_template_kwargs: { enable_thinking: false },
    route: "prefer-local",
    privacy: "strict",
    escalate: true,
    task: "chat",
    signal: controller.signal,
  };
  const whole = (await ai.chat.completions.create(request)) as ChatCompletion;
  const message = whole.choices[0].message;
  const text: string | null = message.content;
  const calls: ToolCall[] = message.tool_calls ?? [];
  console.log(text, calls.map((c) => JSON.parse(c.function.arguments)));
  console.log(whole.choices[0].finish_reason === "tool_calls", whole.usage?.total_tokens);
  const report = whole.tandem;
  if (report) {
    console.log(report.route, report.scores?.difficulty, report.scores?.sensitive, report.fallback);
  }

  const structured = (await ai.chat.completions.create({
    messages: [{ role: "user", content: "A city as JSON" }],
    response_format: {
      type: "json_schema",
      json_schema: { name: "city", schema: { type: "object" }, strict: true },
    },
  })) as ChatCompletion;
  console.log(structured.choices[0].message.content);
  await ai.chat.completions.create({
    messages: [{ role: "user", content: "JSON" }],
    response_format: { type: "json_object" },
  });

  const stream = (await ai.chat.completions.create({
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
  })) as ChunkStream;
  for await (const chunk of stream) {
    const piece: ChatCompletionChunk = chunk;
    const delta = piece.choices[0]?.delta;
    console.log(delta?.content, delta?.tool_calls?.[0]?.function?.arguments, piece.usage);
  }

  const decision = await ai.route({ messages: [{ role: "user", content: "Hi" }] });
  console.log(decision.target, decision.reason, decision.scores.expected_tokens);
  const tokens: number = await ai.countTokens([{ role: "user", content: "Hi" }]);
  console.log(tokens, ai.contextWindow);
}

async function completions(ai: Tandem): Promise<void> {
  const whole = (await ai.completions.create({
    prompt: "Once upon",
    max_tokens: 8,
    logprobs: 2,
    route: "local-only",
    signal: controller.signal,
  })) as TextCompletion;
  console.log(whole.choices[0].text, whole.choices[0].logprobs?.top_logprobs[0]);
  const stream = (await ai.completions.create({ prompt: ["Once"], stream: true })) as TextStream;
  for await (const chunk of stream) console.log(chunk.choices[0]?.text, chunk.tandem?.route);
}

async function embeddings(ai: Tandem): Promise<void> {
  const answer = await ai.embeddings.create({
    input: ["a", "b"],
    dimensions: 64,
    encoding_format: "float",
    truncate: true,
    route: "auto",
    privacy: "standard",
    signal: controller.signal,
  });
  const vector: EmbeddingVector = answer.data[0].embedding;
  console.log(vector, answer.usage.prompt_tokens, answer.tandem.route, answer.tandem.duration_ms);
  const encoder = ai.embeddings.model;
  if (encoder) console.log(encoder.model, encoder.dimensions, encoder.window, encoder.loadMs);
}

async function tasks(ai: Tandem): Promise<void> {
  const options = { route: "auto", privacy: "strict", signal: controller.signal } as const;
  const labels = await ai.tasks.classify("Great!", ["positive", "negative"], options);
  console.log(labels.labels[0].label, labels.labels[0].probability, labels.tandem?.route);
  console.log((await ai.tasks.summarize("Long text.", { sentences: 2 })).text);
  console.log((await ai.tasks.rewrite("hey", { tone: "formal" })).text);
  console.log((await ai.tasks.smartReplies("Lunch?", { n: 3 })).replies);
  console.log((await ai.tasks.extract("Ann, 31", { type: "object" }, options)).data);

  const ranked = await ai.tasks.rank("cats", ["dogs", "kittens"], { topK: 1 });
  console.log(ranked.results[0].index, ranked.results[0].score, ranked.tandem.reason);
  const index = ai.tasks.index();
  const size: number = await index.add(["a text", { id: "n1", text: "a note" }], { topK: 5 });
  console.log(size, index.size, index.remove("n1"));
  const saved = index.save();
  if (saved) {
    const vectors: Float32Array = saved.vectors;
    const restored = ai.tasks.index(saved);
    const found = await ai.tasks.search(restored, "notes", { topK: 3, route: "local-only" });
    console.log(vectors.length, found.results[0]?.id, found.tandem?.model);
    await ai.tasks.search(restored, vectors.subarray(0, saved.dimensions), {});
  }
}

async function lifecycle(): Promise<Tandem> {
  await init();
  const ai = await Tandem.create({
    local: {
      modelUrl: "/models/model.gguf",
      sha256: "0".repeat(64),
      cache: true,
      threads: 2,
      embeddings: { modelUrl: "/models/encoder/" },
    },
    remote: {
      baseUrl: "/v1",
      getToken: async () => "token",
      model: "gpt-4o-mini",
      embeddingModel: "text-embedding-3-small",
      firstByteTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    },
    route: "auto",
    privacy: "standard",
    escalate: false,
    onProgress: (p) => console.log(p.file, p.phase, p.loaded / (p.total || 1)),
    onWarning: (w) => console.log(w.code, w.message, w.cause, w.usage),
    signal: controller.signal,
  });
  const model: ModelInfo | null = ai.model;
  if (model) {
    const { compileMs, fetchMs, verifyMs, buildMs } = model.loadPhases;
    console.log(model.tools, model.quantization["Q8_0"], compileMs + fetchMs + verifyMs + buildMs);
  }
  const listener = (event: Event) => {
    const detail = (event as CustomEvent<RouteEventDetail>).detail;
    console.log(detail.target, detail.reason, detail.fallback);
  };
  ai.addEventListener("route", listener);
  ai.removeEventListener("route", listener);
  const cached = await Tandem.cached();
  console.log(cached[0]?.url, cached[0]?.sha256, await Tandem.evict("/models/model.gguf"));
  return ai;
}

async function adapters(): Promise<void> {
  const Model = await install({ local: { modelUrl: "/models/model.gguf" }, contextWindow: 2048 });
  const session = await Model.create({ initialPrompts: [{ role: "system", content: "Hi" }] });
  console.log(await session.prompt("Hello", { responseConstraint: /yes|no/ }), session.contextUsage);
  console.log((await engine()).contextWindow, LanguageModel === Model);
  const provider = createTandem({ remote: { baseUrl: "/v1" } });
  console.log(provider("auto").modelId, provider.embeddingModel("local").modelId);
}

async function wrongInputs(ai: Tandem): Promise<void> {
  // @ts-expect-error: no such role
  await ai.chat.completions.create({ messages: [{ role: "robot", content: "Hi" }] });
  // @ts-expect-error: max_tokens is a number
  await ai.chat.completions.create({ messages: [], max_tokens: "64" });
  // @ts-expect-error: no such response format
  await ai.chat.completions.create({ messages: [], response_format: { type: "yaml" } });
  // @ts-expect-error: no such route
  await ai.route({ messages: [], route: "somewhere" });
  // @ts-expect-error: tool_choice names no mode
  await ai.chat.completions.create({ messages: [], tool_choice: "sometimes" });
  // @ts-expect-error: completions take a prompt
  await ai.completions.create({ messages: [] });
  // @ts-expect-error: embeddings take an input
  await ai.embeddings.create({ text: "a" });
  // @ts-expect-error: no such tone
  await ai.tasks.rewrite("hey", { tone: "angry" });
  // @ts-expect-error: remote needs a baseUrl
  await Tandem.create({ remote: { token: "t" } });
  const error = new Error() as TandemError;
  // @ts-expect-error: no such error code
  if (error.code === "exploded") console.log(error.retryAfter);
}

const ai = await lifecycle();
await Promise.all([chat(ai), completions(ai), embeddings(ai), tasks(ai), adapters(), wrongInputs(ai)]);
ai.unload();
