// Size bounds on what the API server sends. Kubernetes itself caps an object at ~1.5 MiB, but a
// hostile or broken server is not bound by that: one Event with a 1 MiB message, copied into anomalies,
// the state database and the shared-state ConfigMap, took the controller past 1 GB. Every string kept
// from an object is cut at a fixed length (with an ellipsis), and a watch line has a maximum length.

/** Longest string kept from any field of a listed or watched object (messages, annotations, …). */
export const MAX_FIELD_LENGTH = 4096;
/** Longest watch line accepted (a real object is at most ~1.5 MiB as JSON); longer ones restart the watch. */
export const MAX_WATCH_LINE_LENGTH = 8 * 1024 * 1024;
/** Longest anomaly message (it is logged, stored and sent to every channel). */
export const MAX_ANOMALY_MESSAGE_LENGTH = 4096;

const ELLIPSIS = "…";

/** `text` cut to at most `max` characters, the last one an ellipsis when it was cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  // Never split a surrogate pair (half an emoji would be invalid UTF-16 downstream).
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return text.slice(0, cut) + ELLIPSIS;
}

/**
 * Whether the JSON text `json` may hold a string (value or key) longer than `max` characters once parsed; false
 * means a walk with truncateLongStrings would cut nothing. A string decodes to at most as many characters as it
 * takes between its quotes, so it suffices that no stretch between two quotes is longer than `max`. A quote after
 * a backslash is taken as escaped and does not end the stretch (for `\\"` that is only more cautious). One pass of
 * indexOf over the text: at cold start it costs a fraction of the walk over every parsed object.
 */
export function mayHoldLongStrings(json: string, max: number): boolean {
  if (json.length <= max) return false;
  let start = 0;
  for (let q = json.indexOf('"'); q >= 0; q = json.indexOf('"', q + 1)) {
    if (json.charCodeAt(q - 1) === 92) continue; // backslash
    if (q - start > max) return true;
    start = q + 1;
  }
  return json.length - start > max;
}

/**
 * Cuts every string value (and object key) longer than `max` in a parsed JSON value, in place.
 * Returns how many were cut. Iterative, so a deeply nested document cannot overflow the stack.
 */
export function truncateLongStrings(value: unknown, max = MAX_FIELD_LENGTH): number {
  let cut = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === "string" && v.length > max) {
          node[i] = truncateText(v, max);
          cut++;
        } else if (v && typeof v === "object") stack.push(v);
      }
    } else if (node && typeof node === "object") {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        let k = key;
        if (key.length > max) {
          k = truncateText(key, max);
          obj[k] = obj[key];
          delete obj[key];
          cut++;
        }
        const v = obj[k];
        if (typeof v === "string" && v.length > max) {
          obj[k] = truncateText(v, max);
          cut++;
        } else if (v && typeof v === "object") stack.push(v);
      }
    }
  }
  return cut;
}
