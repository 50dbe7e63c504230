/** Waits `ms`, or less when `signal` aborts first, so a stopping informer or elector never hangs in a
 * backoff; always resolves (never rejects) because stopping is not an error for the caller. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
