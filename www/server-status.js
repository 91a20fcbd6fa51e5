// The server's card: its URL and whether it answers, checked every few seconds and
// whenever an answer suggests it went away or came back.
import { $ } from "./dom.js";

const EVERY_MS = 5000;
const TIMEOUT_MS = 3000;

/** Watch the OpenAI-compatible server at `baseUrl` (`GET /models`); returns
 * `check()` to look again now. */
export function watchServer(baseUrl) {
  $("server-url").textContent = baseUrl;
  let timer;
  const check = async () => {
    clearTimeout(timer);
    try {
      const response = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { data } = await response.json();
      show("up", `Reachable · serves ${data.map((m) => m.id).join(", ")}`);
    } catch (e) {
      show("down", "Unreachable: heavy questions fall back to the local model. Start it with make demo.");
    }
    timer = setTimeout(check, EVERY_MS);
  };
  check();
  return check;
}

function show(state, text) {
  $("server-dot").dataset.state = state;
  $("server-state").textContent = text;
}
