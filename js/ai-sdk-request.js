// An AI SDK call (LanguageModelV4CallOptions) as tandem's chat request: the prompt as
// OpenAI messages, the settings, tools and response format; what tandem cannot take
// either becomes a warning (settings) or a coded error (content it cannot send).
// `headers` are not sent: tandem makes its own requests (credentials: remote.token or
// remote.getToken).

/** A coded error as tandem's own: `invalid_request` naming what it cannot send. */
function refused(message) {
  return Object.assign(new Error(message), { code: "invalid_request" });
}

/** The chat request for `options` and the warnings about what it leaves out; `route`
 * is the model id's route (undefined: the defaults of createTandem's options). */
export function chatRequest(options, route) {
  const warnings = [];
  const unsupported = (feature, details) => warnings.push({ type: "unsupported", feature, details });
  const { reasoning, tools = [], providerOptions } = options;
  if (reasoning !== undefined && reasoning !== "provider-default") unsupported("reasoning");
  const functions = tools.filter((t) => t.type === "function");
  for (const tool of tools.filter((t) => t.type !== "function")) {
    unsupported(`provider tool ${tool.name ?? tool.id}`);
  }
  const request = defined({
    ...providerOptions?.tandem,
    messages: options.prompt.flatMap(messages),
    max_tokens: options.maxOutputTokens,
    temperature: options.temperature,
    top_p: options.topP,
    top_k: options.topK,
    stop: options.stopSequences,
    presence_penalty: options.presencePenalty,
    frequency_penalty: options.frequencyPenalty,
    seed: options.seed,
    response_format: responseFormat(options.responseFormat),
    tools: functions.length ? functions.map(functionTool) : undefined,
    tool_choice: functions.length ? toolChoice(options.toolChoice) : undefined,
    route,
  });
  return { request, warnings };
}

/** One AI SDK message as OpenAI chat messages (a tool message: one per result). */
function messages({ role, content }) {
  switch (role) {
    case "system":
      return [{ role, content }];
    case "user":
      return [{ role, content: texts(content) }];
    case "assistant": {
      const calls = content.filter((p) => p.type === "tool-call" && !p.providerExecuted);
      const text = texts(content.filter((p) => p.type === "text"));
      if (!calls.length) return [{ role, content: text }];
      return [{ role, content: text || null, tool_calls: calls.map(toolCall) }];
    }
    case "tool":
      return content
        .filter((p) => p.type === "tool-result")
        .map((p) => ({ role: "tool", tool_call_id: p.toolCallId, content: resultText(p.output) }));
    default:
      throw refused(`unknown message role "${role}"`);
  }
}

/** Text parts joined; a part of another kind (a file, an image) is refused. */
function texts(parts) {
  return parts
    .map((part) => {
      if (part.type !== "text") throw refused(`tandem takes text only, not a ${part.type} part`);
      return part.text;
    })
    .join("");
}

function toolCall({ toolCallId, toolName, input }) {
  const args = typeof input === "string" ? input : JSON.stringify(input);
  return { id: toolCallId, type: "function", function: { name: toolName, arguments: args } };
}

/** A tool's output as the text of a `tool` message. */
function resultText(output) {
  switch (output.type) {
    case "text":
    case "error-text":
      return output.value;
    case "json":
    case "error-json":
      return JSON.stringify(output.value);
    case "execution-denied":
      return output.reason ?? "The tool was not run: the user denied it.";
    case "content":
      return texts(output.value);
    default:
      throw refused(`unknown tool output type "${output.type}"`);
  }
}

/** An AI SDK function tool as OpenAI's (fields it leaves out stay out: tandem would
 * send them on as null). */
function functionTool({ name, description, inputSchema, strict }) {
  const fn = { name, description, parameters: inputSchema, strict };
  return { type: "function", function: defined(fn) };
}

/** `object` without its undefined fields. */
function defined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

function toolChoice(choice) {
  if (!choice) return undefined;
  if (choice.type === "tool") return { type: "function", function: { name: choice.toolName } };
  return choice.type;
}

/** `json` with a schema: OpenAI's json_schema, enforced while decoding on the local
 * model; without one, any JSON object. */
function responseFormat(format) {
  if (format?.type !== "json") return undefined;
  if (!format.schema) return { type: "json_object" };
  const { name = "response", description, schema } = format;
  return { type: "json_schema", json_schema: defined({ name, description, schema, strict: true }) };
}
