// Stable identities for anomalies and incidents.
// An anomaly's fingerprint is what Alertmanager calls a fingerprint: a 64-bit FNV-1a hash of the
// label set (here kind, namespace, name, reason), computed the way Prometheus' model package does
// (label names sorted, each name and value followed by a 0xff separator, empty values left out),
// printed as 16 hex digits. Same anomaly, same fingerprint — across restarts and controllers.
import type { Anomaly } from "./anomaly.ts";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;
const encoder = new TextEncoder();

function fnvUpdate(hash: bigint, bytes: Uint8Array): bigint {
  for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & MASK;
  return hash;
}

/** FNV-1a 64 of a label set, Prometheus style, as 16 hex digits. */
export function labelsFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const sep = Uint8Array.of(SEPARATOR);
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name]!;
    if (value === "") continue; // an empty label value is the same as no label
    hash = fnvUpdate(hash, encoder.encode(name));
    hash = fnvUpdate(hash, sep);
    hash = fnvUpdate(hash, encoder.encode(value));
    hash = fnvUpdate(hash, sep);
  }
  return hash.toString(16).padStart(16, "0");
}

/** FNV-1a 64 of a plain string, as 16 hex digits. */
export function hashString(text: string): string {
  return fnvUpdate(FNV_OFFSET, encoder.encode(text)).toString(16).padStart(16, "0");
}

const cache = new Map<string, string>();

/** The anomaly's fingerprint: kind, namespace, name and reason (not message, node or severity). */
export function fingerprint(a: Pick<Anomaly, "kind" | "namespace" | "name" | "reason">): string {
  const memoKey = `${a.kind}\u0000${a.namespace}\u0000${a.name}\u0000${a.reason}`;
  let fp = cache.get(memoKey);
  if (fp === undefined) {
    fp = labelsFingerprint({ kind: a.kind, namespace: a.namespace, name: a.name, reason: a.reason });
    // Bounded memo: storms re-hash the same few keys thousands of times; never grow without limit.
    if (cache.size >= 10_000) cache.clear();
    cache.set(memoKey, fp);
  }
  return fp;
}
