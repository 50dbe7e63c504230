// What each key accepts, in words, generated from its declaration: the configuration table in the docs
// (scripts/gen-docs.ts) and docs/configuration-validation.md say exactly what the loader enforces.
import { formatDuration, formatSize } from "./load.ts";
import { MAX_LIST_ITEMS, MAX_TEXT_LENGTH, MAX_TIMER_MS, durationMax, type KeyDecl } from "./schema.ts";

const orList = (items: readonly string[]) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`);

/** "duration 100ms–1h", "one of starttls, tls or none", "URL: mqtt://, mqtts://, ws:// or wss://" … */
export function acceptedValues(decl: KeyDecl): string {
  const range = (fmt: (n: number) => string, min = 0, max?: number) => `${fmt(min)}–${fmt(max ?? MAX_TIMER_MS)}`;
  const text = [
    decl.required ? "required" : "",
    decl.patternDoc ?? "",
    decl.maxLength && decl.maxLength !== MAX_TEXT_LENGTH ? `at most ${decl.maxLength} characters` : "",
  ]
    .filter(Boolean)
    .join("; ");
  switch (decl.type) {
    case "duration":
      return `duration ${range(formatDuration, decl.min, durationMax(decl))}`;
    case "int":
    case "float":
      return `${decl.type === "int" ? "whole number" : "number"} ${range(String, decl.min, decl.max)}`;
    case "ratio":
      return "number 0–1";
    case "size":
      return `size ${range(formatSize, decl.min, decl.max)}`;
    case "bool":
      return "true/false (also yes/no, on/off, 1/0)";
    case "enum":
      return `one of ${orList(decl.values ?? [])}`;
    case "url":
      return `URL: ${orList((decl.schemes ?? ["http", "https"]).map((s) => `${s}://`))}${decl.loopbackHttp ? " (http:// to a loopback address)" : ""} with a host`;
    case "file":
      return "path of an existing, readable PEM file of CA certificates";
    case "hostport":
      return "host:port (port 0–65535)";
    case "list":
      return `comma-separated list of at most ${decl.maxItems ?? MAX_LIST_ITEMS}${decl.patternDoc ? `, each ${decl.patternDoc}` : ""}`;
    case "string":
      return text ? `text: ${text}` : "text";
  }
}
