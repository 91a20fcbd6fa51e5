// One Tandem made on first use, for the modules that wrap it (prompt-api.js,
// ai-sdk.js). Shipped in pkg/ beside tandem.js.
import init, { Tandem } from "./tandem.js";

/** A function giving the Tandem of `options`, made (wasm started, model loaded) on
 * the first call and shared by later ones; a failed start is tried again on the next
 * call. */
export function lazyTandem(options) {
  let made;
  return () =>
    (made ??= (async () => {
      await init();
      return Tandem.create(options);
    })().catch((error) => {
      made = undefined;
      throw error;
    }));
}
