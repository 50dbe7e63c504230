// Waiting for a condition with a deadline: the only synchronisation tests use (no fixed sleeps).

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the timeout error; a function is evaluated at that moment (to show state). */
  message?: string | (() => string);
}

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws). A throw counts as "not yet". */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 25 } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const message = (typeof opts.message === "function" ? opts.message() : opts.message) ?? "condition";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${lastError ? ` (last error: ${lastError})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
