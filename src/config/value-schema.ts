// The one zod schema the loader validates with, built from SCHEMA (src/config/schema.ts): each key from its raw
// text (after precedence) to its typed value (types, bounds, enums, URLs, files), then the relations between keys.
// Messages name the expected form, never the value (the loader adds the key and the redacted raw text).
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync, type Stats } from "node:fs";
import { z } from "../boundary/reject.ts";
import { durationMax, MAX_LIST_ITEMS, MAX_TEXT_LENGTH, SCHEMA, type ConfigKey, type KeyDecl } from "./schema.ts";
import { formatDuration, formatSize, parseDuration, parseSize } from "./units.ts";

export type Value = string | number | boolean | string[];

const EXPECTED: Record<KeyDecl["type"], string> = {
  duration: 'a duration such as "500ms", "7s", "5m" or "1h30m"',
  int: "a whole number",
  float: "a number",
  ratio: "a number from 0 to 1",
  bool: "true or false",
  string: "text",
  list: "a comma-separated list",
  size: 'a size such as "512KiB" or "10MiB"',
  hostport: 'host:port, e.g. "127.0.0.1:9873"',
  url: "an http(s) URL",
  enum: "one of",
  file: "a readable PEM file",
};

/** The file types the loader checks at start-up: must exist, be a regular readable file of PEM text. */
const MAX_PEM_BYTES = 1 << 20;

function fileProblem(path: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "expected an existing file: not found" : `expected a readable file: cannot stat (${code ?? e})`;
  }
  if (!st.isFile()) return "expected a regular file";
  if (st.size > MAX_PEM_BYTES) return `expected a PEM file of at most ${MAX_PEM_BYTES} bytes, found ${st.size}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return `expected a readable file: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`;
  }
  if (!text.includes("-----BEGIN ")) return 'expected a PEM file: no "-----BEGIN" line';
  // A garbled certificate would otherwise surface only when a channel connects, as a TLS error.
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) return "expected a PEM file of CA certificates: no complete CERTIFICATE block";
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      return `expected a PEM file of CA certificates: certificate ${i + 1} does not parse (${(e as Error).message})`;
    }
  }
  return undefined;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function urlProblem(decl: KeyDecl, text: string): string | undefined {
  const schemes = decl.schemes ?? ["http", "https"];
  const expected = `a URL with scheme ${oneOf(schemes.map((s) => `${s}://`))}${decl.loopbackHttp ? " (http:// to a loopback address)" : ""} and a host`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `expected ${expected}`;
  }
  const scheme = u.protocol.slice(0, -1);
  const loopbackHttp = decl.loopbackHttp && scheme === "http" && LOOPBACK.test(u.hostname);
  if (!schemes.includes(scheme) && !loopbackHttp) return `expected ${expected}, not ${scheme}://`;
  if (u.hostname === "" || !text.includes("//")) return `expected ${expected}: the host is missing`;
  return undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One zod schema per declared key, from the raw text (after precedence) to the typed value. */
function valueSchema(decl: KeyDecl): z.ZodType<Value, string> {
  const text = z
    .string()
    .max(MAX_TEXT_LENGTH * 4, { error: `expected at most ${MAX_TEXT_LENGTH * 4} characters` })
    .refine((s) => !CONTROL.test(s), { error: "expected no control characters (newline, tab, escape ...)" });
  const expected = EXPECTED[decl.type];
  const bounds = (fmt: (n: number) => string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .number()
      .min(min, { error: `expected ${expected} of at least ${fmt(min)}` })
      .max(max, { error: `expected ${expected} of at most ${fmt(max)}` });
  const parsed = <T>(parse: (s: string) => T | undefined) =>
    text.transform((s, ctx) => {
      const v = parse(s);
      if (v === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${expected}` });
        return z.NEVER;
      }
      // Digits beyond a double parse to Infinity: still "too large", with the bound in the message.
      return v === Infinity ? (Number.MAX_VALUE as T) : v;
    });
  const maxLength = decl.maxLength ?? MAX_TEXT_LENGTH;
  const patterned = (s: z.ZodString) => {
    let out = s.max(maxLength, { error: `expected at most ${maxLength} characters` });
    if (decl.pattern) out = out.regex(decl.pattern, { error: `expected ${decl.patternDoc}` });
    return out;
  };
  switch (decl.type) {
    case "duration":
      return parsed(parseDuration).pipe(bounds(formatDuration, decl.min, durationMax(decl)));
    case "int":
      return parsed((s) => (/^\s*-?\d+\s*$/.test(s) ? Number(s) : undefined)).pipe(bounds(String, decl.min, decl.max));
    case "float":
      return parsed((s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined)).pipe(bounds(String, decl.min, decl.max));
    case "ratio":
      return parsed((s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined)).pipe(
        z
          .number()
          .min(0, { error: `expected ${expected}` })
          .max(1, { error: `expected ${expected}` }),
      );
    case "size":
      return parsed(parseSize).pipe(bounds(formatSize, decl.min, decl.max));
    case "bool":
      return parsed((s) => BOOLS[s.trim().toLowerCase()]);
    case "enum": {
      const values = decl.values ?? [];
      return text.transform((s) => s.trim().toLowerCase()).pipe(z.enum(values as [string, ...string[]], { error: `expected ${oneOf(values)}` }));
    }
    case "list":
      return text
        .transform((s) =>
          s
            .split(",")
            .map((item) => item.trim())
            .filter(Boolean),
        )
        .pipe(
          z.array(patterned(z.string())).max(decl.maxItems ?? MAX_LIST_ITEMS, { error: `expected at most ${decl.maxItems ?? MAX_LIST_ITEMS} items` }),
        );
    case "hostport":
      return text
        .refine(
          (s) => {
            const m = /^(.*):(\d{1,5})$/.exec(s.trim());
            return !!m && Number(m[2]) <= 65535 && (m[1] === "" || HOSTPORT_HOST.test(m[1]!));
          },
          { error: `expected ${expected}` },
        )
        .transform((s) => s.trim());
    case "url":
      return text
        .transform((s) => s.trim())
        .pipe(z.string().max(maxLength, { error: `expected at most ${maxLength} characters` }))
        .superRefine((s, ctx) => {
          const problem = s === "" ? undefined : urlProblem(decl, s);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        });
    case "file":
      return text
        .transform((s) => s.trim())
        .superRefine((s, ctx) => {
          const problem = s === "" ? undefined : fileProblem(s);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        });
    case "string":
      return text
        .refine((s) => !decl.required || s.trim() !== "", { error: "expected a value: it must not be empty" })
        .pipe(z.union([z.literal(""), patterned(z.string())]));
  }
}

const BOOLS: Record<string, boolean> = { true: true, "1": true, yes: true, on: true, false: false, "0": false, no: false, off: false };
const HOSTPORT_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;

/** Relations between keys, checked once every key is valid on its own. */
const CROSS_KEY_RULES: { keys: [ConfigKey, ConfigKey]; ok: (a: number, b: number) => boolean; expected: string }[] = [
  { keys: ["LEADER_RENEW_DEADLINE", "LEADER_LEASE_DURATION"], ok: (a, b) => a < b, expected: "a duration shorter than LEADER_LEASE_DURATION" },
  { keys: ["LEADER_RETRY_PERIOD", "LEADER_RENEW_DEADLINE"], ok: (a, b) => a < b, expected: "a duration shorter than LEADER_RENEW_DEADLINE" },
  { keys: ["ALERT_RETRY_MIN_BACKOFF", "ALERT_RETRY_MAX_BACKOFF"], ok: (a, b) => a <= b, expected: "a duration of at most ALERT_RETRY_MAX_BACKOFF" },
  { keys: ["AGENT_BIND_TTL", "AGENT_BIND_TTL_MAX"], ok: (a, b) => a <= b, expected: "a duration of at most AGENT_BIND_TTL_MAX" },
];

/** The one schema: every declared key from its raw text, then the relations between keys. */
export const CONFIG_SCHEMA = z
  .object(Object.fromEntries(SCHEMA.map((decl) => [decl.key, valueSchema(decl)])) as Record<ConfigKey, z.ZodType<Value, string>>)
  .pipe(
    z.custom<Record<ConfigKey, Value>>().superRefine((values, ctx) => {
      for (const rule of CROSS_KEY_RULES) {
        const [a, b] = rule.keys;
        if (!rule.ok(values[a] as number, values[b] as number)) {
          ctx.addIssue({ code: "custom", path: [a], message: `expected ${rule.expected} (${formatDuration(values[b] as number)})` });
        }
      }
    }),
  );

/** "a, b or c" */
function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
}
