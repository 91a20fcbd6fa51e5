// The route badge every answer carries: where it ran (local, server, local→server,
// or a fallback), with the router's reason on hover and, for touch and keyboard,
// on a tap that shows it under the answer.
import { el } from "./dom.js";

const NAMES = { local: "local", remote: "server", "local→remote": "local→server" };

/** A badge (`.element`) and its reason line (`.reason`), updated as the answer goes:
 * `decided(detail)` for each `route` event, `done(tandem)` with the final report,
 * `failed()` when nothing answered. */
export function routeBadge() {
  const element = el("button", "badge pending", "routing…");
  element.type = "button";
  element.setAttribute("aria-expanded", "false");
  const reason = el("p", "reason");
  reason.hidden = true;
  element.addEventListener("click", () => {
    reason.hidden = !reason.hidden;
    element.setAttribute("aria-expanded", String(!reason.hidden));
  });

  const show = (route, why, fallback) => {
    element.className = `badge ${fallback ? "fallback " : ""}route-${cssName(route)}`;
    element.dataset.route = route;
    element.dataset.fallback = String(Boolean(fallback));
    element.textContent = NAMES[route] + (fallback ? " · fallback" : "");
    const text = fallback ? `${why} (after: ${fallback})` : why;
    element.title = reason.textContent = text;
    element.setAttribute("aria-label", `ran ${NAMES[route]}${fallback ? " as a fallback" : ""}: ${text}`);
  };

  let first = true;
  return {
    element,
    reason,
    decided(detail) {
      // A second event without `fallback` is the cascade handing over to the server.
      const route = first || detail.fallback ? detail.target : "local→remote";
      first = false;
      show(route, detail.reason, detail.fallback);
    },
    done(tandem) {
      show(tandem.route, tandem.reason ?? "", tandem.fallback);
    },
    failed() {
      element.classList.add("failed");
      element.classList.remove("pending");
      if (first) element.textContent = "not answered";
    },
  };
}

/** The CSS class suffix of a route. */
export function cssName(route) {
  return route === "local→remote" ? "escalated" : route;
}
