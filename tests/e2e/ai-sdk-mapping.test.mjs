// tandem/ai-sdk's two mappings in Node, without a page: a tool-calling conversation
// (an assistant's calls, their results) as OpenAI messages, and two tool calls
// streamed side by side as the specification's parts. The page test cannot send the
// second step yet: tandem's request types take no `tool` messages (issue 28, item 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chatRequest } from "../../js/ai-sdk-request.js";
import { folded, Parts } from "../../js/ai-sdk-parts.js";

test("a second step's messages: the assistant's tool calls and each result as a tool message", () => {
  const { request, warnings } = chatRequest(
    {
      prompt: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Weather in Paris " }, { type: "text", text: "and Oslo?" }] },
        {
          role: "assistant",
          content: [
            { type: "tool-call", toolCallId: "a", toolName: "weather", input: { city: "Paris" } },
            { type: "tool-call", toolCallId: "b", toolName: "weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "tool",
          content: [
            { type: "tool-result", toolCallId: "a", toolName: "weather", output: { type: "json", value: { c: 21 } } },
            { type: "tool-result", toolCallId: "b", toolName: "weather", output: { type: "error-text", value: "down" } },
          ],
        },
      ],
      toolChoice: { type: "tool", toolName: "weather" },
      tools: [
        { type: "function", name: "weather", inputSchema: { type: "object" } },
        { type: "provider", id: "openai.web_search", name: "web_search", args: {} },
      ],
      reasoning: "high",
    },
    "remote-only",
  );
  const call = (id, city) => ({ id, type: "function", function: { name: "weather", arguments: `{"city":"${city}"}` } });
  assert.deepEqual(request, {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris and Oslo?" },
      { role: "assistant", content: null, tool_calls: [call("a", "Paris"), call("b", "Oslo")] },
      { role: "tool", tool_call_id: "a", content: '{"c":21}' },
      { role: "tool", tool_call_id: "b", content: "down" },
    ],
    tools: [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }],
    tool_choice: { type: "function", function: { name: "weather" } },
    route: "remote-only",
  });
  assert.deepEqual(warnings.map((w) => w.feature), ["reasoning", "provider tool web_search"]);
  const file = { role: "user", content: [{ type: "file", data: "x", mediaType: "image/png" }] };
  assert.throws(() => chatRequest({ prompt: [file] }), { code: "invalid_request" });
});

test("two tool calls streamed by index become two whole calls; the finish says tool-calls", async () => {
  const parts = new Parts();
  const delta = (index, fn, id) => ({ choices: [{ delta: { tool_calls: [{ index, id, function: fn }] } }] });
  const chunks = [
    { id: "c1", model: "m", created: 1, choices: [{ delta: { role: "assistant" } }] },
    delta(0, { name: "weather", arguments: '{"city":' }, "a"),
    delta(1, { name: "time", arguments: "" }, "b"),
    delta(0, { arguments: '"Paris"}' }),
    { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
    { choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 }, tandem: { route: "remote" } },
  ];
  const all = [...chunks.flatMap((c) => [...parts.chunk(c)]), ...parts.end()];
  const stream = new ReadableStream({
    start: (controller) => (all.forEach((p) => controller.enqueue(p)), controller.close()),
  });
  const result = await folded(stream);
  assert.deepEqual(result.content, [
    { type: "tool-call", toolCallId: "a", toolName: "weather", input: '{"city":"Paris"}' },
    { type: "tool-call", toolCallId: "b", toolName: "time", input: "{}" },
  ]);
  assert.deepEqual(result.finishReason, { unified: "tool-calls", raw: "tool_calls" });
  assert.deepEqual([result.usage.inputTokens.total, result.usage.outputTokens.total], [5, 3]);
  assert.deepEqual(result.providerMetadata, { tandem: { route: "remote" } });
  assert.equal(result.response.id, "c1");
});
