// Fuzz target "config" (issue 10, fuzzing convention): random environment maps through the loader.
// Property: Config.load either returns a Config whose every value lies within its declared type and
// bounds, or throws the loader's own ConfigError (one line per bad key, naming it) — never anything
// else (no TypeError, no RangeError from a timer, no silent default). Shrunk counter-examples are kept
// in test/fuzz/regressions/config.json and replayed first.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Config, ConfigError } from "../../src/config/load.ts";
import { durationMax, MAX_LIST_ITEMS, MAX_TEXT_LENGTH, SCHEMA, type KeyDecl } from "../../src/config/schema.ts";
import { ensureCerts } from "../../src/sim/certs.ts";

const SEED = 0x10c0f16;
const RUNS = 10_000;
const REGRESSIONS = join(import.meta.dir, "regressions/config.json");

const dir = mkdtempSync(join(tmpdir(), "nc-fuzz-config-"));
const PEM = ensureCerts(join(dir, "pki"), "127.0.0.1").caFile;
const NOT_PEM = join(dir, "plain.txt");
writeFileSync(NOT_PEM, "plain\n");

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Every accepted value is of its declared type and within its declared bounds (plain checks: 10,000 runs). */
function assertWithinBounds(cfg: Config): void {
  for (const decl of SCHEMA as readonly KeyDecl[]) {
    const v = cfg.value(decl.key as never);
    const fail = (why: string) => {
      throw new Error(`accepted ${decl.key}=${JSON.stringify(v)}: ${why}`);
    };
    const inRange = (min = 0, max = Number.MAX_SAFE_INTEGER) => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
    const text = (s: string, pattern = true) => {
      if (CONTROL.test(s)) fail("control character");
      if (s.length > (decl.maxLength ?? MAX_TEXT_LENGTH)) fail("too long");
      if (pattern && decl.pattern && s !== "" && !decl.pattern.test(s)) fail(`not ${decl.patternDoc}`);
    };
    switch (decl.type) {
      case "duration":
        if (!inRange(decl.min, durationMax(decl))) fail("out of bounds");
        break;
      case "int":
        if (!inRange(decl.min, decl.max) || !Number.isInteger(v)) fail("out of bounds or not whole");
        break;
      case "size":
      case "float":
        if (!inRange(decl.min, decl.max)) fail("out of bounds");
        break;
      case "ratio":
        if (!inRange(0, 1)) fail("not within 0..1");
        break;
      case "bool":
        if (typeof v !== "boolean") fail("not a boolean");
        break;
      case "enum":
        if (!decl.values!.includes(v as string)) fail("not one of the values");
        break;
      case "list":
        if (!Array.isArray(v) || v.length > (decl.maxItems ?? MAX_LIST_ITEMS)) fail("too many items");
        for (const item of v as string[]) text(item);
        break;
      case "url": {
        if (v === "") break;
        text(v as string, false);
        const u = new URL(v as string);
        const scheme = u.protocol.slice(0, -1);
        const allowed = (decl.schemes ?? ["http", "https"]).includes(scheme) || (!!decl.loopbackHttp && scheme === "http");
        if (u.hostname === "" || !allowed) fail("scheme or host");
        break;
      }
      default:
        if (typeof v !== "string") fail("not text");
        text(v as string);
        if (decl.required && (v as string).trim() === "") fail("empty");
        if (decl.type === "file" && v !== "" && !readFileSync(v as string, "utf8").includes("-----BEGIN ")) fail("not PEM");
    }
  }
}

/** The property: load, then either bounded values or the loader's own error naming known keys. */
function check(env: Record<string, string>): void {
  let cfg: Config;
  try {
    cfg = Config.load({ env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (e.problems.length === 0) throw new Error("ConfigError without problems");
    for (const p of e.problems) if (!SCHEMA.some((d) => p.startsWith(`${d.key}=`))) throw new Error(`a problem that names no key: ${p}`);
    return;
  }
  assertWithinBounds(cfg);
}

// Values shaped like each type (near and past the bounds), plus hostile text of any shape.
const num = fc.oneof(fc.integer({ min: -10, max: 1e6 }), fc.double({ noNaN: false }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53 + 1, 1e300));
const numText = fc.oneof(
  num.map(String),
  fc
    .tuple(fc.constantFrom("", "-"), fc.integer({ min: 1, max: 400 }), fc.constantFrom("", ".5", "."))
    .map(([sign, n, frac]) => `${sign}${"9".repeat(n)}${frac}`),
);
const units = fc.constantFrom("", "ms", "s", "m", "h", "d", "us", "y", "KiB", "MiB", "GiB", "kb", "b", " ");
const measured = fc.tuple(numText, units, fc.option(fc.tuple(numText, units))).map(([n, u, more]) => `${n}${u}${more ? more.join("") : ""}`);
const schemes = fc.constantFrom("mqtt", "mqtts", "ws", "wss", "http", "https", "ftp", "tcp", "javascript", "");
const host = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}(\.[a-z]{2,5})?$/),
  fc.constantFrom("10.0.0.1", "127.0.0.1", "[::1]", "localhost", "", "user:pw@host", "h:99999", "-bad-", "a b"),
);
const url = fc
  .tuple(
    schemes,
    fc.constantFrom("://", "//", ":", ":///"),
    host,
    fc.option(fc.integer({ min: 0, max: 70000 })),
    fc.constantFrom("", "/", "/mqtt", "/services/T/B/x", "/v1/traces?x=1", "/a b"),
  )
  .map(([s, sep, h, port, path]) => `${s}${sep}${h}${port === null ? "" : `:${port}`}${path}`);
const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.constantFrom(1000, 5000, 20_000)).map(([s, n]) => s.repeat(n)),
);
const files = fc.constantFrom(PEM, NOT_PEM, dir, "/nonexistent/x.pem", "", "/dev/null", "relative.pem");

function valueFor(decl: KeyDecl): fc.Arbitrary<string> {
  const typed: Record<KeyDecl["type"], fc.Arbitrary<string>> = {
    duration: measured,
    size: measured,
    int: numText,
    float: numText,
    ratio: numText,
    bool: fc.constantFrom("true", "false", "yes", "off", "1", "TRUE", "maybe", ""),
    enum: fc.tuple(fc.constantFrom(...(decl.values ?? [""]), "no-such"), fc.boolean()).map(([v, upper]) => (upper ? ` ${v.toUpperCase()}` : v)),
    list: fc
      .tuple(
        fc.array(fc.oneof(anyText, fc.constantFrom("a@b", "Node", "authorization=Bearer x", "bad header=x")), { maxLength: 6 }),
        fc.integer({ min: 1, max: 120 }),
      )
      .map(([items, times]) =>
        Array.from({ length: items.length ? times : 0 }, () => items)
          .flat()
          .join(",")
          .slice(0, 40_000),
      ),
    url,
    file: files,
    hostport: fc.tuple(fc.oneof(host, fc.constant("")), fc.integer({ min: -1, max: 100_000 })).map(([h, p]) => `${h}:${p}`),
    string: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,70}$/), fc.constantFrom("a/b", "+", "#", "0660", "999", "x@y")),
  };
  return fc.oneof({ weight: 3, arbitrary: typed[decl.type] }, { weight: 1, arbitrary: anyText });
}

// One arbitrary per key, built once (building them inside chain() costs more than the loader).
const entry = fc.oneof(...(SCHEMA as readonly KeyDecl[]).map((decl) => valueFor(decl).map((v) => [decl.key, v] as const)));
const envMap = fc.array(entry, { maxLength: 6 }).map((entries) => Object.fromEntries(entries) as Record<string, string>);

describe("fuzz: config", () => {
  test("regression fixtures replay", () => {
    const cases = JSON.parse(readFileSync(REGRESSIONS, "utf8")) as { env: Record<string, string>; why: string }[];
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) check(c.env);
  });

  test(`${RUNS} random environments: bounded values or the loader's own error`, () => {
    fc.assert(
      fc.property(envMap, (env) => check(env)),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});
