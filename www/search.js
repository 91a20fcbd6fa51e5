// The semantic search card: a few built-in documents and the person's own texts,
// embedded where the router says (the sentence encoder in this page by default) and
// searched by meaning, each result with its score, the route badge and the time. The
// index is saved in this browser (`index.save()`, its vectors as a Float32Array), so a
// second visit searches at once without embedding anything again.
import { $, duration, el } from "./dom.js";
import { showNotice } from "./notice.js";
import { taskSettings } from "./routing.js";
import { showJob } from "./shown-job.js";

/** The built-in documents: a small help centre. */
const DOCUMENTS = [
  "To reset your password, open Settings, choose Security and follow the link we e-mail you.",
  "Invoices are in Billing: download any month as a PDF.",
  "Refunds reach your card within five to seven working days.",
  "Change the delivery address of an order until it ships, under Orders.",
  "Two-factor authentication adds a code from your phone to every sign-in.",
  "The mobile app is in the App Store and on Google Play.",
  "Export all your notes as Markdown from Settings, Data.",
  "Our support team answers chats from 8 am to 8 pm, Monday to Saturday.",
  "Shared folders let your team edit the same documents together.",
  "Delete your account under Settings, Privacy; your data is erased after 30 days.",
  "Dark mode follows your system, or choose it under Appearance.",
  "Parcels abroad take three to ten days, with tracking in the Orders page.",
];

const STORE = "tandem-demo-search";

/** Wire the card to `ai` through `jobs`; searches go to `record`. */
export async function semanticSearch(ai, jobs, record) {
  if (!ai.embeddings.model) {
    state("The sentence encoder did not load: search is off.");
    return;
  }
  const texts = new Map();
  const index = await openIndex(ai, texts);
  const enable = (on) => {
    for (const id of ["search-query", "search-go", "search-text", "search-add-go"]) $(id).disabled = !on;
  };
  enable(true);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(ai, jobs, record, index, texts);
  });
  $("search-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("search-text").value.trim();
    if (!text || jobs.busy) return;
    const id = `mine-${Date.now()}`;
    try {
      await jobs.run(() => {}, (signal) => index.add([{ id, text }], { ...taskSettings(), signal }));
      texts.set(id, text);
      $("search-text").value = "";
      save(index, texts);
      state(`${index.size} documents, ${index.size - DOCUMENTS.length} of them yours.`);
    } catch (e) {
      if (e.code !== "aborted") showNotice(e);
    }
  });
}

/** The saved index of an earlier visit, or one made now from the built-in documents. */
async function openIndex(ai, texts) {
  const saved = restore();
  if (saved && saved.index.model === ai.embeddings.model.model) {
    try {
      const index = ai.tasks.index(saved.index);
      for (const [id, text] of saved.texts) texts.set(id, text);
      state(`${index.size} documents from your last visit: searched at once, nothing embedded again.`);
      return index;
    } catch {
      // A damaged record: the documents are embedded again below.
    }
  }
  const index = ai.tasks.index();
  const started = performance.now();
  state(`Embedding ${DOCUMENTS.length} documents…`);
  const items = DOCUMENTS.map((text, i) => ({ id: `doc-${i}`, text }));
  await index.add(items);
  for (const { id, text } of items) texts.set(id, text);
  save(index, texts);
  state(`${DOCUMENTS.length} documents embedded in ${duration(performance.now() - started)}.`);
  return index;
}

function search(ai, jobs, record, index, texts) {
  const query = $("search-query").value.trim();
  if (!query || jobs.busy) return;
  return showJob({
    jobs,
    record,
    box: $("search-results"),
    what: "Search",
    pending: "searching…",
    run: (signal) => ai.tasks.search(index, query, { ...taskSettings(), topK: 3, signal }),
    show: (found) => {
      const list = el("ol", "hits");
      for (const { id, score } of found.results) list.append(hit(texts.get(id) ?? id, score, id));
      return list;
    },
  });
}

/** One result: its score as a bar and a number, and its text. */
function hit(text, score, id) {
  const row = el("li");
  row.dataset.id = id;
  const bar = el("span", "meter");
  bar.append(el("span"));
  bar.firstElementChild.style.width = `${Math.max(0, score * 100).toFixed(0)}%`;
  row.append(bar, el("span", "p", score.toFixed(2)), el("span", "text", text));
  return row;
}

function state(text) {
  $("search-state").textContent = text;
}

/** Keep `index` and the texts of its ids in this browser. */
function save(index, texts) {
  const { model, dimensions, ids, vectors } = index.save();
  const bytes = new Uint8Array(vectors.buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const record = { model, dimensions, ids, vectors: btoa(binary), texts: [...texts] };
  try {
    localStorage.setItem(STORE, JSON.stringify(record));
  } catch {
    // A full or disabled storage only costs the next visit an embedding.
  }
}

/** The index and texts `save` kept, if any. */
function restore() {
  try {
    const record = JSON.parse(localStorage.getItem(STORE));
    if (!record) return null;
    const bytes = Uint8Array.from(atob(record.vectors), (c) => c.charCodeAt(0));
    const { model, dimensions, ids, texts } = record;
    return { index: { model, dimensions, ids, vectors: new Float32Array(bytes.buffer) }, texts };
  } catch {
    return null;
  }
}
