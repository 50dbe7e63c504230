// The silence command topic (<prefix>/silences/set): a signed command envelope (src/mqtt/signed-command.ts)
// whose payload is an add or expire request. The signer written in the signed envelope becomes the
// silence's createdBy (a payload cannot claim one); the silence id is derived from the envelope's
// key id, signer and nonce, so a command replayed to another controller (after a failover, inside
// the replay window) finds its id taken and is refused instead of adding the silence twice.
import { createHash } from "node:crypto";
import { parseAt, preview, z, type RejectSink } from "../boundary/reject.ts";
import type { Logger } from "../log.ts";
import type { CommandVerifier, VerifiedCommand } from "../mqtt/signed-command.ts";
import { SILENCE_LIMITS, SilenceError, type Silence, type SilenceInput, type SilenceOptions } from "./silence.ts";

export const SILENCE_COMMAND_KIND = "silence";
const SOURCE = "mqtt.silence-command";

export const silenceCommandSchema = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("add"),
    matchers: z.union([z.string().max(SILENCE_LIMITS.matchers * (SILENCE_LIMITS.value + 16)), z.array(z.unknown()).max(SILENCE_LIMITS.matchers)]),
    duration: z.union([z.string().max(32), z.number()]).optional(),
    startsAt: z.number().optional(),
    endsAt: z.number().optional(),
    comment: z.string().max(SILENCE_LIMITS.comment),
  }),
  z.strictObject({ action: z.literal("expire"), id: z.string().max(SILENCE_LIMITS.id) }),
]);
export type SilenceCommand = z.output<typeof silenceCommandSchema>;

/** The controller's answer on <prefix>/silences/result (only to correctly signed commands). */
export interface SilenceCommandResult {
  nonce: string;
  ok: boolean;
  action?: "add" | "expire";
  id?: string;
  error?: string;
}

export interface SilenceCommandDeps {
  verifier: CommandVerifier;
  store: { add(input: SilenceInput, now: number, opts?: SilenceOptions): Promise<Silence>; expire(id: string, now: number): Promise<Silence[]> };
  sink: RejectSink;
  log: Logger;
  silenceOptions: SilenceOptions;
  publishResult?: (r: SilenceCommandResult) => Promise<void>;
  clock?: () => number;
}

export const commandSilenceId = (c: VerifiedCommand) =>
  `m${createHash("sha256").update(`${c.kid}\n${c.signer}\n${c.nonce}`).digest("hex").slice(0, 15)}`;

/** Handles one message of the command topic; never throws (a store failure is logged and answered). */
export async function handleSilenceCommand(deps: SilenceCommandDeps, raw: Buffer, retained: boolean): Promise<SilenceCommandResult | undefined> {
  const now = (deps.clock ?? Date.now)();
  if (retained) {
    // A retained command would be re-delivered to every controller that subscribes: never a command.
    deps.sink.reject(`${SOURCE}.retained`, "retained message on the command topic", raw);
    return undefined;
  }
  const v = deps.verifier.verify(raw, SILENCE_COMMAND_KIND);
  if (!v.ok) return undefined;
  const c = v.command;
  const audit = { signer: c.signer, kid: c.kid, nonce: c.nonce };
  const answer = async (r: SilenceCommandResult) => {
    await deps.publishResult?.(r).catch((e) => deps.log.warn("cannot publish the silence command result", { error: String(e) }));
    return r;
  };
  const parsed = parseAt(silenceCommandSchema, c.payload, SOURCE, deps.sink);
  if (!parsed.ok) return answer({ nonce: c.nonce, ok: false, error: parsed.reason });
  const cmd = parsed.value;
  try {
    if (cmd.action === "expire") {
      const expired = await deps.store.expire(cmd.id, now);
      if (expired.length === 0)
        return answer({ nonce: c.nonce, ok: false, action: "expire", error: `no active silence with id ${preview(cmd.id, 64)}` });
      deps.log.info("silence expired via MQTT", { ...audit, id: cmd.id });
      return answer({ nonce: c.nonce, ok: true, action: "expire", id: cmd.id });
    }
    const input: SilenceInput = { ...cmd, matchers: cmd.matchers as SilenceInput["matchers"], createdBy: c.signer, id: commandSilenceId(c) };
    const s = await deps.store.add(input, now, deps.silenceOptions);
    deps.log.info("silence added via MQTT", { ...audit, id: s.id, comment: s.comment, endsAt: new Date(s.endsAt).toISOString() });
    return answer({ nonce: c.nonce, ok: true, action: "add", id: s.id });
  } catch (e) {
    if (e instanceof SilenceError) {
      deps.sink.reject(SOURCE, e.problems.join("; "), c.payload);
      return answer({ nonce: c.nonce, ok: false, action: cmd.action, error: e.problems.join("; ") });
    }
    deps.log.error("silence command failed", { ...audit, error: String(e) });
    return answer({ nonce: c.nonce, ok: false, action: cmd.action, error: "the controller could not store the silence; try again" });
  }
}
