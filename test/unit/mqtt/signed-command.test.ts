// The signed command envelope (issue 10, "commands with authority"): only the holder of the cluster
// key can command; a command is accepted once, within the replay window; every refusal is counted
// by class and audited with its payload.
import { describe, expect, test } from "bun:test";
import { canonicalJson, CommandVerifier, keyId, NonceCache, signCommand } from "../../../src/mqtt/signed-command.ts";

const KEY = "k".repeat(32);
const OLD_KEY = "o".repeat(32);
const T0 = 1_760_000_000_000;

function verifier(opts: { keys?: string[]; now?: () => number; nonceCacheMax?: number } = {}) {
  const refused: { source: string; reason: string; payload: unknown }[] = [];
  const v = new CommandVerifier({
    keys: opts.keys ?? [KEY],
    maxAgeMs: 120_000,
    sink: { reject: (source, reason, payload) => refused.push({ source, reason, payload }) },
    source: "mqtt.command",
    clock: opts.now ?? (() => T0),
    nonceCacheMax: opts.nonceCacheMax,
  });
  return { v, refused };
}
const cmd = (
  payload: Record<string, unknown> = { action: "expire", id: "abc" },
  over: { key?: string; now?: number; nonce?: string; signer?: string } = {},
) => signCommand("silence", payload, { key: over.key ?? KEY, signer: over.signer ?? "alice", now: over.now ?? T0, nonce: over.nonce });

describe("signed commands", () => {
  test("a correctly signed command is accepted once, with its signer and key id", () => {
    const { v, refused } = verifier();
    const env = cmd();
    const r = v.verify(JSON.stringify(env), "silence");
    expect(r).toEqual({
      ok: true,
      command: { kind: "silence", signer: "alice", kid: keyId(KEY), ts: T0, nonce: env.nonce, payload: { action: "expire", id: "abc" } },
    });
    expect(v.verify(JSON.stringify(env), "silence")).toMatchObject({ ok: false, refusal: "replayed" });
    expect(refused.map((x) => x.source)).toEqual(["mqtt.command.replayed"]);
  });

  test("unsigned, tampered, wrong key, wrong kind, stale and future commands are refused, each counted by class", () => {
    const { v, refused } = verifier();
    const unsigned = JSON.stringify({ action: "add", matchers: "namespace!=__nothing__", duration: "876000h", createdBy: "x", comment: "t" });
    expect(v.verify(unsigned, "silence")).toMatchObject({ ok: false, refusal: "unsigned" });
    const tampered = { ...cmd(), payload: { action: "expire", id: "other" } };
    expect(v.verify(JSON.stringify(tampered), "silence")).toMatchObject({ ok: false, refusal: "bad-signature" });
    const signerChanged = { ...cmd(), signer: "mallory" };
    expect(v.verify(JSON.stringify(signerChanged), "silence")).toMatchObject({ ok: false, refusal: "bad-signature" });
    // the right key id with a signature made by another key
    const forged = { ...cmd({}, { key: "f".repeat(32) }), kid: keyId(KEY) };
    expect(v.verify(JSON.stringify(forged), "silence")).toMatchObject({ ok: false, refusal: "bad-signature" });
    expect(v.verify(JSON.stringify(cmd({}, { key: OLD_KEY })), "silence")).toMatchObject({ ok: false, refusal: "unknown-key" });
    expect(v.verify(JSON.stringify(cmd()), "healing.pause")).toMatchObject({ ok: false, refusal: "wrong-kind" });
    expect(v.verify(JSON.stringify(cmd({}, { now: T0 - 120_001 })), "silence")).toMatchObject({ ok: false, refusal: "stale" });
    expect(v.verify(JSON.stringify(cmd({}, { now: T0 + 120_001 })), "silence")).toMatchObject({ ok: false, refusal: "stale" });
    expect(v.verify("{not json", "silence")).toMatchObject({ ok: false, refusal: "malformed" });
    expect(v.verify(JSON.stringify({ ...cmd(), extra: 1 }), "silence")).toMatchObject({ ok: false, refusal: "malformed" });
    expect(v.verify("x".repeat(20_000), "silence")).toMatchObject({ ok: false, refusal: "malformed" });
    expect(refused.map((x) => x.source)).toEqual([
      "mqtt.command.unsigned",
      "mqtt.command.bad-signature",
      "mqtt.command.bad-signature",
      "mqtt.command.bad-signature",
      "mqtt.command.unknown-key",
      "mqtt.command.wrong-kind",
      "mqtt.command.stale",
      "mqtt.command.stale",
      "mqtt.command.malformed",
      "mqtt.command.malformed",
      "mqtt.command.malformed",
    ]);
    expect(refused[0]!.payload).toBe(unsigned); // audited with the payload
  });

  test("key rotation: the previous key is accepted while configured", () => {
    const { v } = verifier({ keys: [KEY, OLD_KEY] });
    expect(v.verify(JSON.stringify(cmd({}, { key: OLD_KEY })), "silence")).toMatchObject({ ok: true, command: { kid: keyId(OLD_KEY) } });
    expect(v.verify(JSON.stringify(cmd({}, { key: KEY })), "silence")).toMatchObject({ ok: true, command: { kid: keyId(KEY) } });
  });

  test("the signature covers the canonical payload: key order does not matter, values do", () => {
    const { v } = verifier();
    const env = cmd({ b: 1, a: { y: [1, "2"], x: null } });
    const reordered = {
      sig: env.sig,
      payload: { a: { x: null, y: [1, "2"] }, b: 1 },
      nonce: env.nonce,
      ts: env.ts,
      signer: env.signer,
      kid: env.kid,
      kind: env.kind,
      v: env.v,
    };
    expect(v.verify(JSON.stringify(reordered), "silence").ok).toBe(true);
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  test("keys shorter than 16 characters are not usable", () => {
    expect(() => verifier({ keys: ["short"] })).toThrow("no key of at least 16");
  });

  test("the nonce cache is bounded: full of live nonces it refuses (never forgets one early); expired ones make room", () => {
    const cache = new NonceCache(2);
    expect(cache.remember("a", 100, 0)).toBe("new");
    expect(cache.remember("b", 200, 0)).toBe("new");
    expect(cache.remember("c", 300, 50)).toBe("full");
    expect(cache.remember("a", 100, 50)).toBe("replayed");
    expect(cache.remember("c", 300, 150)).toBe("new"); // "a" expired at 100
    expect(cache.size).toBe(2);
    let now = T0;
    const { v } = verifier({ now: () => now, nonceCacheMax: 3 });
    for (let i = 0; i < 3; i++) expect(v.verify(JSON.stringify(cmd()), "silence").ok).toBe(true);
    expect(v.verify(JSON.stringify(cmd()), "silence")).toMatchObject({ ok: false, refusal: "busy" });
    now = T0 + 120_001;
    expect(v.verify(JSON.stringify(cmd({}, { now })), "silence").ok).toBe(true);
  });
});

describe("the documented format, from another language", () => {
  test("scripts/sign-command.py (Python's hmac/json) produces commands the verifier accepts", () => {
    const payload = { action: "add", matchers: "namespace=shop name=cart-*", duration: "2h", comment: "rolling out cart v2 – ü" };
    const p = Bun.spawnSync(["python3", `${import.meta.dir}/../../../scripts/sign-command.py`, "ops@host", JSON.stringify(payload)], {
      env: { ...process.env, MQTT_COMMAND_KEY: KEY },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(p.stderr.toString()).toBe("");
    const { v } = verifier({ now: () => Date.now() });
    expect(v.verify(p.stdout.toString(), "silence")).toMatchObject({ ok: true, command: { signer: "ops@host", payload } });
  });
});
