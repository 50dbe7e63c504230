// Issue 10 items 1 and 2, as an attacker or an unlucky operator would try them: silences whose
// matchers are not strings, that match everything, last forever, reuse an id, expire by prefix, or
// claim an author — through createSilence, the store (on the real API simulator) and the MQTT
// command handler alike.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { handleSilenceCommand, type SilenceCommandDeps } from "../../../src/alerting/silence-command.ts";
import { SilenceStore } from "../../../src/alerting/silence-store.ts";
import {
  createSilence,
  isSilenced,
  matcherMatches,
  parseMatchers,
  SilenceError,
  silenceSchema,
  tooBroad,
  type Silence,
} from "../../../src/alerting/silence.ts";
import { KubeClient } from "../../../src/kube/client.ts";
import { loadConnection } from "../../../src/kube/kubeconfig.ts";
import { silentLogger } from "../../../src/log.ts";
import { CommandVerifier, signCommand } from "../../../src/mqtt/signed-command.ts";
import { startSimulator, type Simulator } from "../../../src/sim/index.ts";
import { T0 } from "../../support/fixtures.ts";

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SilenceError) return e.problems;
    throw e;
  }
  return [];
};
const base = { duration: "1h", createdBy: "alice", comment: "why" };
const target = { namespace: "shop", kind: "Pod", name: "cart-1", reason: "CrashLoopBackOff", node: "pi-1" };

describe("silence input is strictly typed (issue 10 item 1)", () => {
  test("a matcher value that is not a string is refused with its path, never stored", () => {
    const bad = [{ field: "namespace", value: 12345 }] as never;
    const p = problems(() => createSilence({ ...base, matchers: bad }, T0));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^matchers\.0: value: .*string/);
    for (const matchers of [
      [{ field: "name", value: { $ne: 1 } }],
      [{ field: "name", value: "a", negate: "yes" }],
      [{ field: "name", value: "a", extra: 1 }],
      "x" as never,
      [null],
      [["name", "a"]],
    ]) {
      expect(problems(() => createSilence({ ...base, matchers: matchers as never }, T0)).length).toBeGreaterThan(0);
    }
  });

  test("a malformed silence already stored cannot break an alert cycle: ignored by the schema, harmless to the matcher", () => {
    const stored = {
      id: "x1",
      matchers: [{ field: "namespace", value: 12345 }],
      startsAt: 0,
      endsAt: T0 * 2,
      createdBy: "x",
      comment: "t",
      createdAt: 0,
      updatedAt: 0,
    };
    expect(silenceSchema.safeParse(stored).success).toBe(false);
    expect(() => isSilenced(target, [stored as unknown as Silence], T0)).not.toThrow();
    expect(matcherMatches({ field: "namespace", value: 12345 as never }, target)).toBe(false);
  });

  test("strings are bounded: a 5 MB comment, a long author or matcher value, control characters", () => {
    expect(problems(() => createSilence({ ...base, matchers: "name=a", comment: "x".repeat(5_000_000) }, T0))).toEqual([
      "comment: at most 1024 characters (got 5000000)",
    ]);
    expect(problems(() => createSilence({ ...base, matchers: "name=a", createdBy: "y".repeat(200) }, T0))[0]).toContain("createdBy: at most 128");
    expect(problems(() => createSilence({ ...base, matchers: `name=${"z".repeat(300)}` }, T0))[0]).toContain("matchers.0: value");
    expect(problems(() => createSilence({ ...base, matchers: "name=a", comment: "ok\u001b[2Jcleared" }, T0))).toEqual([
      "comment: must not contain control characters",
    ]);
    expect(
      problems(() => createSilence({ ...base, matchers: Array.from({ length: 17 }, (_, i) => ({ field: "name", value: `n${i}` })) as never }, T0))[0],
    ).toContain("at most 16");
  });
});

describe("no silence matches everything, none lasts forever (issue 10 item 2)", () => {
  test("match-everything sets are refused, decided against synthetic alerts", () => {
    for (const m of [
      "name=*",
      "name=?*",
      "namespace!=__nothing__",
      "reason!=X node!=Y",
      "name=** kind=*",
      "node!=pi-1",
      "name=*?*?*",
      "name=*e* namespace=*",
    ]) {
      expect({ m, problems: problems(() => createSilence({ ...base, matchers: m }, T0)) }).toEqual({
        m,
        problems: ["matchers: would silence every alert; name at least one namespace, kind, name, reason or node"],
      });
    }
    for (const m of ["namespace=shop", "name=cart-*", "kind=Pod reason=CrashLoopBackOff", "namespace=shop node!=pi-1", "node=pi-?", "name=a"]) {
      expect({ m, broad: tooBroad(parseMatchers(m)) }).toEqual({ m, broad: undefined });
    }
  });

  test("durations: over SILENCE_MAX_DURATION, NaN, 1e300, negative and absurd text are refused", () => {
    const day = 86_400_000;
    const p = (duration: unknown, maxDurationMs?: number) =>
      problems(() => createSilence({ ...base, matchers: "name=a", duration: duration as never }, T0, { maxDurationMs }));
    expect(p("876000h")[0]).toContain("longer than SILENCE_MAX_DURATION");
    expect(p(1e300)[0]).toContain("longer than SILENCE_MAX_DURATION");
    expect(p(Number.NaN)[0]).toContain("expected a positive duration");
    expect(p(Number.POSITIVE_INFINITY)[0]).toContain("expected a positive duration");
    expect(p(-5)[0]).toContain("expected a positive duration");
    expect(p("9".repeat(400))[0]).toContain("expected a positive duration");
    expect(p("31d")[0]).toContain("longer than SILENCE_MAX_DURATION");
    expect(p("30d")).toEqual([]);
    expect(p("2d", day)[0]).toContain("longer than SILENCE_MAX_DURATION");
    expect(problems(() => createSilence({ ...base, duration: undefined, matchers: "name=a", endsAt: 1e300 }, T0))[0]).toContain(
      "longer than SILENCE_MAX_DURATION",
    );
    expect(problems(() => createSilence({ ...base, matchers: "name=a", startsAt: T0 + 400 * day }, T0))[0]).toContain("startsAt: at most");
  });
});

describe("the store and the MQTT command handler (real API simulator)", () => {
  let sim: Simulator;
  let store: SilenceStore;
  beforeAll(async () => {
    sim = await startSimulator({ tls: true });
    store = new SilenceStore(new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig() })!), "kube-system", "neurocontroller-silences");
  });
  afterAll(async () => {
    await sim.stop();
  });

  test("ids are never reused or overwritten; expire needs the exact id ('' and prefixes refused)", async () => {
    const a = await store.add({ ...base, matchers: "namespace=shop", id: "op-silence-1" }, T0);
    await expect(store.add({ ...base, matchers: "namespace=other", comment: "takeover", id: "op-silence-1" }, T0)).rejects.toThrow("already exists");
    expect((await store.list()).map((s) => [s.id, s.comment])).toEqual([["op-silence-1", "why"]]);
    await expect(store.expire("", T0)).rejects.toThrow("exact id");
    expect(await store.expire("op-silence", T0)).toEqual([]);
    expect((await store.list())[0]!.endsAt).toBe(a.endsAt);
    expect((await store.expire("op-silence-1", T0 + 1)).map((s) => s.id)).toEqual(["op-silence-1"]);
    // expired, still listed for the audit trail: its id stays taken
    await expect(store.add({ ...base, matchers: "namespace=shop", id: "op-silence-1" }, T0 + 2)).rejects.toThrow("already exists");
  });

  test("MQTT: createdBy is the signer of the envelope; a payload cannot claim one; replays and prefixes refused", async () => {
    const key = "q".repeat(32);
    const refused: string[] = [];
    const results: unknown[] = [];
    const now = Date.now();
    const deps: SilenceCommandDeps = {
      verifier: new CommandVerifier({
        keys: [key],
        maxAgeMs: 60_000,
        sink: { reject: (s) => refused.push(s) },
        source: "mqtt.command",
        clock: () => now,
      }),
      store,
      sink: { reject: (s) => refused.push(s) },
      log: silentLogger,
      silenceOptions: { maxDurationMs: 7 * 86_400_000 },
      publishResult: async (r) => void results.push(r),
      clock: () => now,
    };
    const send = (payload: Record<string, unknown>, retained = false) => {
      const env = signCommand("silence", payload, { key, signer: "bob@ops", now });
      return { env, result: handleSilenceCommand(deps, Buffer.from(JSON.stringify(env)), retained) };
    };
    const add = send({ action: "add", matchers: [{ field: "namespace", value: "shop" }], duration: "1h", comment: "maintenance" });
    const r = await add.result;
    expect(r).toMatchObject({ ok: true, action: "add" });
    const stored = (await store.list()).find((s) => s.id === r!.id)!;
    expect(stored.createdBy).toBe("bob@ops");
    // replaying the same envelope: refused before it reaches the store
    expect(await handleSilenceCommand(deps, Buffer.from(JSON.stringify(add.env)), false)).toBeUndefined();
    expect(refused).toContain("mqtt.command.replayed");
    // a payload claiming an author, a non-string matcher, a century: refused, answered, nothing stored
    const before = (await store.list()).length;
    expect(await send({ action: "add", matchers: "name=x", duration: "1h", comment: "c", createdBy: "ceo" }).result).toMatchObject({ ok: false });
    expect(await send({ action: "add", matchers: [{ field: "namespace", value: 12345 }], duration: "1h", comment: "t" }).result).toMatchObject({
      ok: false,
    });
    expect(await send({ action: "add", matchers: "namespace!=__nothing__", duration: "876000h", comment: "t" }).result).toMatchObject({ ok: false });
    expect(await send({ action: "add", matchers: "name=x", duration: 1e300, comment: "t" }).result).toMatchObject({ ok: false });
    expect(await send({ action: "expire", id: "" }).result).toMatchObject({ ok: false });
    expect(await send({ action: "expire", id: r!.id!.slice(0, 4) }).result).toMatchObject({ ok: false });
    expect(await send({ action: "add", matchers: "name=x", duration: "1h", comment: "t" }, true).result).toBeUndefined(); // retained
    expect((await store.list()).length).toBe(before);
    // five refused as invalid (the prefix is simply no silence's id: answered "no active silence")
    expect(refused.filter((s) => s === "mqtt.silence-command").length).toBe(5);
    expect(results.at(-1)).toMatchObject({ ok: false, error: expect.stringContaining("no active silence") });
    expect(refused).toContain("mqtt.silence-command.retained");
    expect(await send({ action: "expire", id: r!.id }).result).toMatchObject({ ok: true, action: "expire", id: r!.id });
  });
});
