import { describe, expect, test } from "bun:test";
import {
  createSilence,
  expireSilence,
  formatMatchers,
  isActive,
  isSilenced,
  parseMatchers,
  pruneSilences,
  SilenceError,
} from "../../../src/alerting/silence.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, anomaly, app, Driver, podCrash } from "./helpers.ts";

const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SilenceError) return e.problems;
    throw e;
  }
  return [];
};
const silence = (matchers: string, over: Record<string, unknown> = {}) =>
  createSilence({ matchers, duration: "1h", createdBy: "alice", comment: "deploying cart", ...over }, T0);

describe("silence matchers", () => {
  test("parses the CLI syntax, with negation, quotes and commas", () => {
    expect(parseMatchers("namespace=shop kind=Pod name=cart-* reason=CrashLoopBackOff")).toEqual([
      { field: "namespace", value: "shop" },
      { field: "kind", value: "Pod" },
      { field: "name", value: "cart-*" },
      { field: "reason", value: "CrashLoopBackOff" },
    ]);
    expect(parseMatchers('node!=pi-1,reason="Back Off"')).toEqual([
      { field: "node", value: "pi-1", negate: true },
      { field: "reason", value: "Back Off" },
    ]);
    expect(formatMatchers(parseMatchers('namespace=shop reason="Back Off" node!=pi-*'))).toBe('namespace=shop reason="Back Off" node!=pi-*');
  });

  test("parse errors name the matcher and the field", () => {
    expect(errorsOf(() => parseMatchers("namespce=shop cart name="))).toEqual([
      'matcher "namespce=shop": unknown field "namespce" (expected namespace, kind, name, reason or node)',
      'matcher "cart": expected field=value or field!=value with field namespace, kind, name, reason or node',
      'matcher "name=": name needs a value (use * to match anything)',
    ]);
    expect(errorsOf(() => parseMatchers("  "))).toEqual(["matchers: at least one matcher is required, e.g. namespace=shop name=cart-*"]);
  });

  test("globs: * and ? anchored; kind case-insensitive, the rest exact", () => {
    const s = silence("namespace=shop kind=pod name=cart-?-*");
    const cart = anomaly({ namespace: "shop", name: "cart-7-abc" });
    expect(isSilenced(cart, [s], T0)).toBe(s);
    expect(isSilenced({ ...cart, name: "cart-77-abc" }, [s], T0)).toBeUndefined();
    expect(isSilenced({ ...cart, name: "my-cart-7-abc" }, [s], T0)).toBeUndefined();
    expect(isSilenced({ ...cart, namespace: "Shop" }, [s], T0)).toBeUndefined();
    expect(isSilenced({ ...cart, name: "cart.7.x" }, [silence("name=cart.7.*")], T0)).toBeDefined(); // dots are literal
    expect(isSilenced({ ...cart, name: "cartX7Xx" }, [silence("name=cart.7.*")], T0)).toBeUndefined();
    expect(isSilenced(cart, [silence("namespace=shop node!=pi-1")], T0)).toBeUndefined(); // cart is on pi-1
    expect(isSilenced({ ...cart, node: "pi-2" }, [silence("namespace=shop node!=pi-1")], T0)).toBeDefined();
  });
});

describe("silence model", () => {
  test("active from startsAt (inclusive) to endsAt (exclusive); expiry ends it now and keeps it", () => {
    const s = silence("namespace=shop", { startsAt: T0 + min(10) });
    expect(s.endsAt).toBe(T0 + min(70));
    expect(isActive(s, T0 + min(10) - 1)).toBe(false);
    expect(isActive(s, T0 + min(10))).toBe(true);
    expect(isActive(s, T0 + min(70))).toBe(false);
    const expired = expireSilence(s, T0 + min(20));
    expect(expired).toMatchObject({ id: s.id, endsAt: T0 + min(20), updatedAt: T0 + min(20), createdBy: "alice" });
    expect(isActive(expired, T0 + min(20))).toBe(false);
    expect(expireSilence(expired, T0 + min(30))).toBe(expired);
    expect(pruneSilences([expired, silence("kind=Node")], T0 + min(30) + min(60) + 1, min(60)).map((x) => x.matchers[0]!.field)).toEqual(["kind"]);
  });

  test("ids are deterministic for the same content", () => {
    expect(silence("namespace=shop").id).toBe(silence("namespace=shop").id);
    expect(silence("namespace=shop").id).not.toBe(silence("namespace=shop2").id);
  });

  test("validation collects every problem, each naming its field", () => {
    expect(errorsOf(() => createSilence({ matchers: [], createdBy: " ", comment: "" }, T0))).toEqual([
      "matchers: at least one matcher is required, e.g. namespace=shop name=cart-*",
      "endsAt: required (or a duration)",
      "createdBy: required (who is silencing)",
      "comment: required (why, for the audit trail)",
    ]);
    expect(errorsOf(() => silence("name=*"))).toEqual([
      "matchers: would silence every alert; name at least one namespace, kind, name, reason or node",
    ]);
    expect(errorsOf(() => silence("kind=Pod", { duration: "soon" }))).toEqual([
      'duration: expected a positive duration such as "30m" or "2h", got "soon"',
      "endsAt: required (or a duration)",
    ]);
    expect(errorsOf(() => silence("kind=Pod", { duration: undefined, endsAt: T0 - 1, startsAt: T0 - min(5) }))).toEqual([
      "endsAt: must be in the future",
    ]);
    expect(errorsOf(() => silence("kind=Pod", { duration: undefined, endsAt: T0 + 1, startsAt: T0 + 2 }))).toEqual([
      "endsAt: must be after startsAt",
    ]);
    expect(errorsOf(() => silence("kind=Pod", { endsAt: T0 + min(5) }))).toEqual(["duration: give either endsAt or duration, not both"]);
    expect(
      errorsOf(() => createSilence({ matchers: [{ field: "colour" as never, value: "red" }], duration: 1000, createdBy: "a", comment: "b" }, T0)),
    ).toEqual(['matchers: unknown field "colour" (expected namespace, kind, name, reason or node)']);
  });
});

describe("silences in the pipeline", () => {
  test("a silenced alert is not notified; when the silence expires it is, at the next flush", () => {
    const d = new Driver(memCache([...app("cart", { namespace: "shop" }), ...app("web")]));
    d.silences = [silence("namespace=shop name=cart-*", { duration: "10m" })];
    const active = activeOf(podCrash("cart-1", "pi-1", { namespace: "shop" }), podCrash("web-1"));
    d.tick(active, T0);
    d.tick(active, T0 + sec(30));
    expect(d.sent.map((n) => n.payload.alerts.map((a) => a.name))).toEqual([["web-1"], ["web-1"]]); // the shop incident says nothing
    for (let t = sec(35); t <= min(10); t += sec(5)) d.tick(active, T0 + t);
    expect(d.sent).toHaveLength(2);
    const out = d.tick(active, T0 + sec(30) + min(10)); // first flush after expiry (flush grid: 30s + k·5m)
    expect(out.map((n) => n.payload.alerts.map((a) => a.name))).toEqual([["cart-1"], ["cart-1"]]);
  });

  test("an incident silenced for its whole life is never notified, not even resolved", () => {
    const d = new Driver(memCache(app("web")));
    d.silences = [silence("name=web-*")];
    const active = activeOf(podCrash("web-1"));
    for (let t = 0; t <= min(6); t += sec(5)) d.tick(active, T0 + t);
    for (let t = min(6); t <= min(20); t += sec(5)) d.tick(new Map(), T0 + t);
    expect(d.sent).toEqual([]);
    expect(d.pipeline.groups).toEqual({});
  });
});
