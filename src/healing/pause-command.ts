// The healing command topic (<prefix>/healing/set): a signed command envelope (src/mqtt/signed-command.ts,
// the same checks as silences: HMAC with MQTT_COMMAND_KEY, timestamp window, nonce, kind) whose payload is
// pause or resume. The signer becomes who paused. The switch stores the command's own time, and a command
// older than the stored switch is refused: a pause replayed to a new leader cannot undo a later resume.
import { parseAt, z, type RejectSink } from "../boundary/reject.ts";
import type { Logger } from "../log.ts";
import type { CommandVerifier } from "../mqtt/signed-command.ts";
import type { PauseState } from "./pause.ts";

export const HEALING_COMMAND_KIND = "healing";
const SOURCE = "mqtt.healing-command";

export const healingCommandSchema = z.strictObject({
  action: z.enum(["pause", "resume"]),
  reason: z.string().max(500).optional(),
});

export interface HealingCommandResult {
  nonce: string;
  ok: boolean;
  action?: "pause" | "resume";
  error?: string;
}

export interface HealingCommandDeps {
  verifier: CommandVerifier;
  store: { read(): Promise<PauseState | undefined>; set(s: PauseState): Promise<void> };
  sink: RejectSink;
  log: Logger;
  publishResult?: (r: HealingCommandResult) => Promise<void>;
}

/** Handles one message of the command topic; never throws. */
export async function handleHealingCommand(deps: HealingCommandDeps, raw: Buffer, retained: boolean): Promise<HealingCommandResult | undefined> {
  if (retained) {
    deps.sink.reject(`${SOURCE}.retained`, "retained message on the command topic", raw);
    return undefined;
  }
  const v = deps.verifier.verify(raw, HEALING_COMMAND_KIND);
  if (!v.ok) return undefined;
  const c = v.command;
  const answer = async (r: HealingCommandResult) => {
    await deps.publishResult?.(r).catch((e) => deps.log.warn("cannot publish the healing command result", { error: String(e) }));
    return r;
  };
  const parsed = parseAt(healingCommandSchema, c.payload, SOURCE, deps.sink);
  if (!parsed.ok) return answer({ nonce: c.nonce, ok: false, error: parsed.reason });
  const { action, reason } = parsed.value;
  try {
    const current = await deps.store.read();
    const at = new Date(c.ts).toISOString();
    if (current && Date.parse(current.at) > c.ts) {
      deps.sink.reject(`${SOURCE}.stale`, `a ${action} signed at ${at} is older than the switch set at ${current.at}`, c.payload);
      return answer({ nonce: c.nonce, ok: false, action, error: `healing was changed after this command was signed (${current.at})` });
    }
    await deps.store.set({ paused: action === "pause", by: c.signer, at, ...(reason ? { reason } : {}) });
    deps.log.info(`healing ${action === "pause" ? "paused" : "resumed"} via MQTT`, { signer: c.signer, kid: c.kid, nonce: c.nonce });
    return answer({ nonce: c.nonce, ok: true, action });
  } catch (e) {
    deps.log.error("healing command failed", { signer: c.signer, nonce: c.nonce, error: String(e) });
    return answer({ nonce: c.nonce, ok: false, action, error: "the controller could not store the switch; try again" });
  }
}
