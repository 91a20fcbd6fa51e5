// Small DOM helpers shared by the demo's panels.

/** `document.getElementById`, failing loudly when the page and the script disagree. */
export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** A new element with a class and text. */
export function el(tag, className = "", text = "") {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** "1.2 s" or "340 ms". */
export function duration(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** "104.9 MB". */
export function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
