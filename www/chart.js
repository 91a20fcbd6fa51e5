// The live chart of the last answers: one bar per answer, its height the whole
// latency, its colour the route, a tick at the first token. Plain SVG.
import { cssName } from "./badge.js";
import { duration } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const [W, H] = [320, 140];
const PLOT = { left: 34, right: W - 6, top: 10, bottom: H - 18 };

export class Chart {
  /** Keep the last `size` answers in `svg`. */
  constructor(svg, size = 20) {
    this.svg = svg;
    this.size = size;
    this.answers = [];
    this.count = 0;
    this.render();
  }

  /** One more answer: `{route, ms, firstTokenMs?, what, outcome?}`; `route` is
   * `local`, `remote`, `local→remote`, or null when no route was chosen; `outcome`
   * is `stopped` or `failed` when the answer did not finish. */
  add(answer) {
    this.answers.push({ ...answer, n: ++this.count });
    this.answers = this.answers.slice(-this.size);
    this.render();
  }

  render() {
    const svg = this.svg;
    svg.replaceChildren();
    const line = (x1, y1, x2, y2, cls) => node(svg, "line", { x1, y1, x2, y2, class: cls });
    line(PLOT.left, PLOT.bottom, PLOT.right, PLOT.bottom, "axis");
    if (!this.answers.length) {
      node(svg, "text", { x: W / 2, y: H / 2, class: "empty" }).textContent = "No answers yet";
      return;
    }
    const top = niceCeiling(Math.max(...this.answers.map((a) => a.ms)));
    const y = (ms) => PLOT.bottom - (ms / top) * (PLOT.bottom - PLOT.top);
    line(PLOT.left, PLOT.top, PLOT.right, PLOT.top, "grid");
    node(svg, "text", { x: PLOT.left - 4, y: PLOT.top + 4, class: "tick" }).textContent = duration(top);
    node(svg, "text", { x: PLOT.left - 4, y: PLOT.bottom + 4, class: "tick" }).textContent = "0";
    const slot = (PLOT.right - PLOT.left) / this.size;
    this.answers.forEach((a, i) => {
      const x = PLOT.left + i * slot + 1.5;
      const kind = a.outcome || !a.route ? "stopped" : cssName(a.route);
      const bar = node(svg, "rect", {
        x, y: y(a.ms), width: slot - 3, height: Math.max(1, PLOT.bottom - y(a.ms)), rx: 1.5,
        class: `bar ${kind}`,
      });
      const first = a.firstTokenMs ? `, first token ${duration(a.firstTokenMs)}` : "";
      node(bar, "title").textContent =
        `#${a.n} ${a.what}: ${a.route ?? "not answered"}${a.outcome ? ` (${a.outcome})` : ""}, ${duration(a.ms)}${first}`;
      if (a.firstTokenMs && a.firstTokenMs < a.ms) {
        line(x, y(a.firstTokenMs), x + slot - 3, y(a.firstTokenMs), "first-token");
      }
      node(svg, "text", { x: x + (slot - 3) / 2, y: H - 5, class: "n" }).textContent = String(a.n);
    });
  }
}

/** An SVG child of `parent` with `attributes`. */
function node(parent, tag, attributes = {}) {
  const child = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) child.setAttribute(k, String(v));
  parent.append(child);
  return child;
}

/** The axis top: 1, 2 or 5 times a power of ten, at least `ms`. */
function niceCeiling(ms) {
  const power = 10 ** Math.floor(Math.log10(Math.max(ms, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= ms);
}
