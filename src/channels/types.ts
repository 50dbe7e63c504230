// The contract between the alerting pipeline and the channel adapters. AlertGroupData is the one
// format every channel renders (docs/architecture.md, "External contracts"); a Notification is one
// AlertGroupData addressed to one channel, with an id that makes redelivery idempotent.

// The payload types are the domain model's (src/model/alert.ts), re-exported so channel code
// and tests import from one place.
import type { AlertGroupData, AlertItem, AlertLevel, Channel as AlertChannel, Notification } from "../model/alert.ts";

export type { AlertGroupData, AlertItem, AlertLevel, Notification };
export type ChannelName = AlertChannel;

export interface Channel {
  readonly name: ChannelName;
  /**
   * Resolves only once the receiver acknowledged (HTTP 2xx, SMTP 250 after DATA, MQTT PUBACK).
   * Rejects with RetryableError (receiver down / busy) or PermanentError (the message itself or the
   * configuration is wrong; retrying cannot help). Any other error is treated as retryable.
   */
  send(n: Notification, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export { PermanentError, RetryableError } from "../model/delivery.ts";
import { RetryableError } from "../model/delivery.ts";

/** Rejects with a RetryableError when `signal` aborts, so a stalled receiver cannot hold a worker forever. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new RetryableError(`${what}: aborted`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new RetryableError(`${what}: aborted (${signal.reason instanceof Error ? signal.reason.message : "timeout or shutdown"})`));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}
