// Operator commands over MQTT (silences today; healing and SLO pauses later) carry their own
// authority, because MQTT tells a subscriber nothing about who published a message. A command is an
// envelope signed with the per-cluster key MQTT_COMMAND_KEY (HMAC-SHA256):
//   {"v":1,"kind":"silence","kid":"<key id>","signer":"alice@laptop","ts":<ms since epoch>,
//    "nonce":"<16-64 chars [A-Za-z0-9_-]>","payload":{...},"sig":"<64 hex>"}
// sig = HMAC-SHA256(key, canonical) where canonical is the lines
//   neurocontroller-command/v1, kind, kid, signer, ts, nonce, canonicalJson(payload)
// joined by "\n" (canonicalJson: object keys sorted, no whitespace). The verifier accepts a command
// once: the timestamp must be within ±maxAge of its clock and the nonce must be new (nonces are
// remembered until their timestamp leaves the window, so the cache is bounded by the rate of valid
// commands; when it is full new commands are refused rather than old nonces forgotten).
// docs/security.md documents the format for scripts.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { describeIssues, z, type RejectSink } from "../boundary/reject.ts";

export const COMMAND_ENVELOPE_VERSION = 1;
const CANONICAL_TAG = "neurocontroller-command/v1";
/** Commands are small; anything bigger is refused before it is parsed. */
export const COMMAND_MAX_BYTES = 16 * 1024;
/** A key shorter than this is refused (check-config and start-up say so). */
export const COMMAND_KEY_MIN_LENGTH = 16;
export const NONCE_CACHE_MAX = 10_000;

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), "must not contain control characters");

export const commandEnvelopeSchema = z.strictObject({
  v: z.literal(COMMAND_ENVELOPE_VERSION),
  kind: z.string().regex(/^[a-z][a-z0-9.-]{0,39}$/, "expected a command kind such as silence"),
  kid: z.string().regex(/^[0-9a-f]{16}$/, "expected the 16-hex key id"),
  signer: printable(128),
  ts: z.number().int().nonnegative(),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "expected 16-64 characters of [A-Za-z0-9_-]"),
  payload: z.record(z.string(), z.unknown()),
  sig: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 hex digits"),
});
export type CommandEnvelope = z.output<typeof commandEnvelopeSchema>;

/** A verified command: who signed it (as written in the signed envelope) and with which key. */
export interface VerifiedCommand {
  kind: string;
  signer: string;
  kid: string;
  ts: number;
  nonce: string;
  payload: Record<string, unknown>;
}

/** JSON with object keys sorted at every level and no whitespace: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The key's public identity: lets the verifier pick the key (rotation) and the audit name it. */
export function keyId(key: string): string {
  return createHash("sha256").update(`neurocontroller-command-key\n${key}`).digest("hex").slice(0, 16);
}

export function canonicalCommand(e: Omit<CommandEnvelope, "sig" | "v">): string {
  return [CANONICAL_TAG, e.kind, e.kid, e.signer, String(e.ts), e.nonce, canonicalJson(e.payload)].join("\n");
}

const hmac = (key: string, text: string) => createHmac("sha256", key).update(text).digest("hex");

export function signCommand(
  kind: string,
  payload: Record<string, unknown>,
  opts: { key: string; signer: string; now?: number; nonce?: string },
): CommandEnvelope {
  const body = {
    kind,
    kid: keyId(opts.key),
    signer: opts.signer,
    ts: opts.now ?? Date.now(),
    nonce: opts.nonce ?? randomBytes(18).toString("base64url"),
    payload,
  };
  return { v: COMMAND_ENVELOPE_VERSION, ...body, sig: hmac(opts.key, canonicalCommand(body)) };
}

/** Nonces seen within the window, each kept until its command's timestamp leaves the window. */
export class NonceCache {
  private readonly until = new Map<string, number>();

  constructor(private readonly max = NONCE_CACHE_MAX) {}

  get size(): number {
    return this.until.size;
  }

  /** Records `nonce` (kept until `expiresAt`); "replayed" if already there, "full" if no room. */
  remember(nonce: string, expiresAt: number, now: number): "new" | "replayed" | "full" {
    const seen = this.until.get(nonce);
    if (seen !== undefined && seen > now) return "replayed";
    if (this.until.size >= this.max) for (const [n, t] of this.until) if (t <= now) this.until.delete(n);
    if (this.until.size >= this.max) return "full";
    this.until.set(nonce, expiresAt);
    return "new";
  }
}

export type CommandRefusal = "malformed" | "unsigned" | "unknown-key" | "bad-signature" | "stale" | "replayed" | "busy" | "wrong-kind";

export type Verification = { ok: true; command: VerifiedCommand } | { ok: false; refusal: CommandRefusal; reason: string };

export interface CommandVerifierOptions {
  /** Accepted keys: the current MQTT_COMMAND_KEY first, then MQTT_COMMAND_KEY_PREVIOUS during a rotation. */
  keys: string[];
  /** How far a command's timestamp may be from the verifier's clock, either way. */
  maxAgeMs: number;
  sink: RejectSink;
  /** Source prefix in /metrics and logs: refusals are counted as `<source>.<refusal>`. */
  source: string;
  clock?: () => number;
  nonceCacheMax?: number;
}

/** Verifies command envelopes of one kind; every refusal is counted and audited through the sink. */
export class CommandVerifier {
  private readonly keys: Map<string, string>;
  private readonly nonces: NonceCache;
  private readonly clock: () => number;

  constructor(private readonly opts: CommandVerifierOptions) {
    const usable = opts.keys.filter((k) => k.length >= COMMAND_KEY_MIN_LENGTH);
    if (usable.length === 0) throw new Error(`command verifier: no key of at least ${COMMAND_KEY_MIN_LENGTH} characters`);
    this.keys = new Map(usable.map((k) => [keyId(k), k]));
    this.nonces = new NonceCache(opts.nonceCacheMax);
    this.clock = opts.clock ?? Date.now;
  }

  verify(raw: string | Uint8Array, kind: string): Verification {
    const refuse = (refusal: CommandRefusal, reason: string, payload: unknown): Verification => {
      this.opts.sink.reject(`${this.opts.source}.${refusal}`, reason, payload);
      return { ok: false, refusal, reason };
    };
    const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
    if (size > COMMAND_MAX_BYTES) return refuse("malformed", `payload of ${size} bytes exceeds the limit of ${COMMAND_MAX_BYTES}`, raw);
    let json: unknown;
    try {
      json = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
    } catch (err) {
      return refuse("malformed", `not JSON: ${(err as Error).message}`, raw);
    }
    // Unsigned commands are told apart from malformed ones: the audit names the class.
    if (!json || typeof json !== "object" || Array.isArray(json))
      return refuse("malformed", "expected a signed command envelope (a JSON object)", raw);
    if (!("sig" in json)) return refuse("unsigned", "not a signed command envelope (no sig)", raw);
    const parsed = commandEnvelopeSchema.safeParse(json);
    if (!parsed.success) return refuse("malformed", describeIssues(parsed.error), raw);
    const e = parsed.data;
    const key = this.keys.get(e.kid);
    if (!key) return refuse("unknown-key", `key id ${e.kid} is not MQTT_COMMAND_KEY (nor MQTT_COMMAND_KEY_PREVIOUS)`, raw);
    const expected = Buffer.from(hmac(key, canonicalCommand(e)), "hex");
    if (!timingSafeEqual(expected, Buffer.from(e.sig, "hex"))) return refuse("bad-signature", "signature does not match the payload", raw);
    if (e.kind !== kind) return refuse("wrong-kind", `a ${e.kind} command on the ${kind} topic`, raw);
    const now = this.clock();
    if (Math.abs(now - e.ts) > this.opts.maxAgeMs) {
      return refuse("stale", `timestamp ${new Date(e.ts).toISOString()} is more than ${this.opts.maxAgeMs} ms from now`, raw);
    }
    const seen = this.nonces.remember(e.nonce, e.ts + this.opts.maxAgeMs, now);
    if (seen === "replayed") return refuse("replayed", `nonce ${e.nonce} was already used`, raw);
    if (seen === "full") return refuse("busy", "too many commands within the replay window", raw);
    return { ok: true, command: { kind: e.kind, signer: e.signer, kid: e.kid, ts: e.ts, nonce: e.nonce, payload: e.payload } };
  }
}
