// What an app does with the package: five lines to a streamed local answer.
import init, { Tandem } from "tandem";

await init();
const ai = await Tandem.create({ local: { modelUrl: "/models/SmolLM2-135M-Instruct.Q4_1.gguf" } });
const messages = [{ role: "user", content: "What color is the sky?" }];
const reply = document.querySelector("#reply");
for await (const chunk of await ai.chat.completions.create({ messages, max_tokens: 12, temperature: 0, stream: true }))
  reply.textContent += chunk.choices[0]?.delta.content ?? "";
document.body.dataset.done = "true";
