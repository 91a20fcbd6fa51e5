// One answer at a time: chat and quick tasks share the engines, the Stop button and
// tandem's `route` events, which go to the answer that is running.

export class Jobs {
  /** `onBusy(busy)` is called whenever an answer starts or ends. */
  constructor(ai, onBusy) {
    this.onBusy = onBusy;
    this.current = null;
    ai.addEventListener("route", (event) => this.current?.onRoute(event.detail));
  }

  get busy() {
    return this.current !== null;
  }

  /** Run `work(signal)` as the one answer, giving it the route events through
   * `onRoute(detail)`. */
  async run(onRoute, work) {
    if (this.busy) throw new Error("an answer is already running");
    const controller = new AbortController();
    this.current = { onRoute, controller };
    this.onBusy(true);
    try {
      return await work(controller.signal);
    } finally {
      this.current = null;
      this.onBusy(false);
    }
  }

  /** Abort the running answer, if any. */
  stop() {
    this.current?.controller.abort();
  }
}
