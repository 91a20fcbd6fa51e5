// Quick-task buttons on a text box: each runs one of `ai.tasks` where the router
// says and shows its result with the route badge.
import { $, el } from "./dom.js";
import { taskSettings } from "./routing.js";
import { showJob } from "./shown-job.js";

const SENTIMENTS = ["positive", "neutral", "negative"];

/** Per button: what it is called, how it runs, and how its result shows. */
const TASKS = {
  rewrite: {
    name: "Polite rewrite",
    run: (ai, text, options) => ai.tasks.rewrite(text, { ...options, tone: "polite" }),
    show: (result) => el("p", "", result.text),
  },
  summarize: {
    name: "One-line summary",
    run: (ai, text, options) => ai.tasks.summarize(text, { ...options, sentences: 1 }),
    show: (result) => el("p", "", result.text),
  },
  replies: {
    name: "Smart replies",
    run: (ai, text, options) => ai.tasks.smartReplies(text, { ...options, n: 3 }),
    show: (result) => {
      const list = el("ul", "replies");
      for (const reply of result.replies) list.append(el("li", "", reply));
      return list;
    },
  },
  sentiment: {
    name: "Sentiment",
    run: (ai, text, options) => ai.tasks.classify(text, SENTIMENTS, options),
    show: (result) => {
      const list = el("ul", "labels");
      for (const { label, probability } of result.labels) {
        const row = el("li");
        const bar = el("span", "meter");
        bar.append(el("span"));
        bar.firstElementChild.style.width = `${(probability * 100).toFixed(0)}%`;
        row.append(el("span", "label", label), bar, el("span", "p", `${(probability * 100).toFixed(0)}%`));
        list.append(row);
      }
      return list;
    },
  },
};

/** Wire the quick-task buttons to `ai` through `jobs`; each answer goes to `record`. */
export function quickTasks(ai, jobs, record) {
  for (const button of document.querySelectorAll("[data-task]")) {
    button.addEventListener("click", () => runTask(ai, jobs, record, button.dataset.task));
  }
}

function runTask(ai, jobs, record, key) {
  const task = TASKS[key];
  const text = $("task-text").value.trim();
  if (!text || jobs.busy) return;
  $("task-result").dataset.task = key;
  return showJob({
    jobs,
    record,
    box: $("task-result"),
    what: task.name,
    pending: "working…",
    run: (signal) => task.run(ai, text, { ...taskSettings(), signal }),
    show: task.show,
  });
}
