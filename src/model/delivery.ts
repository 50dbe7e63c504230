// How a delivery attempt failed: the contract between transports (an MQTT connection, an HTTP
// client) and the dispatcher that decides to retry or dead-letter.
/** Worth trying again later; `retryAfterMs` is the receiver's own hint (Slack's Retry-After). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RetryableError";
  }
}

/** Retrying cannot help: the notification is dead-lettered (kept in the outbox with the reason). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentError";
  }
}
