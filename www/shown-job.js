// One routed job shown in a result box, as the quick tasks and the search card do: a
// head (its name, the route badge, the time), the result's body, and its bar in the
// chart, whether it answered, was stopped or failed.
import { routeBadge } from "./badge.js";
import { duration, el } from "./dom.js";
import { hideNotice, showNotice } from "./notice.js";

/** Run `run(signal)` through `jobs` as `what`, shown in `box` (`pending` while it
 * runs, then `show(result)`); each outcome goes to `record`. */
export async function showJob({ jobs, record, box, what, pending, run, show }) {
  hideNotice();
  const badge = routeBadge();
  const stats = el("span", "stats", pending);
  const head = el("div", "message-head");
  head.append(el("span", "who", what), badge.element, stats);
  const body = el("div", "body");
  box.replaceChildren(head, body, badge.reason);
  const started = performance.now();
  try {
    const result = await jobs.run(badge.decided, run);
    const ms = performance.now() - started;
    if (result.tandem) badge.done(result.tandem);
    body.append(show(result));
    stats.textContent = duration(ms);
    record({ route: result.tandem?.route ?? null, ms, what });
  } catch (e) {
    const stopped = e.code === "aborted";
    if (!stopped) {
      badge.failed();
      showNotice(e);
    }
    stats.textContent = stopped ? "stopped" : `not done (${e.code ?? e.name})`;
    record({ route: badge.element.dataset.route ?? null, ms: performance.now() - started,
      what, outcome: stopped ? "stopped" : "failed" });
  }
}
