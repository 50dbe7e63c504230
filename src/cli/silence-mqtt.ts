// `neurocontroller silence add|rm --mqtt`: the command goes to the leading controller over MQTT,
// signed with MQTT_COMMAND_KEY (src/mqtt/signed-command.ts), and the CLI waits for the controller's
// answer on <prefix>/silences/result. For hosts with broker access but no kubeconfig.
import { parseJsonAt, z } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import { SILENCE_COMMAND_KIND, type SilenceCommandResult } from "../alerting/silence-command.ts";
import { COMMAND_KEY_MIN_LENGTH, signCommand } from "../mqtt/signed-command.ts";
import { subscriberConnection } from "./alerts.ts";
import { UsageError } from "./args.ts";

const resultSchema = z.object({
  nonce: z.string().max(64),
  ok: z.boolean(),
  action: z.enum(["add", "expire", "pause", "resume"]).optional(),
  id: z.string().max(64).optional(),
  error: z.string().max(4096).optional(),
});

/** Signs `payload`, publishes it on <prefix>/silences/set and returns the controller's answer. */
export function sendSilenceCommand(
  config: Config,
  payload: Record<string, unknown>,
  signer: string,
  timeoutMs = 15_000,
): Promise<SilenceCommandResult> {
  return sendSignedCommand(config, SILENCE_COMMAND_KIND, payload, signer, "silences", timeoutMs) as Promise<SilenceCommandResult>;
}

/** Signs `payload` as a `kind` command, publishes it on <prefix>/<topic>/set and returns the answer on <prefix>/<topic>/result. */
export async function sendSignedCommand(
  config: Config,
  kind: string,
  payload: Record<string, unknown>,
  signer: string,
  topic: "silences" | "healing",
  timeoutMs = 15_000,
): Promise<z.output<typeof resultSchema>> {
  const key = config.str("MQTT_COMMAND_KEY");
  if (key.length < COMMAND_KEY_MIN_LENGTH) {
    throw new UsageError(`--mqtt needs MQTT_COMMAND_KEY (the cluster's command key, at least ${COMMAND_KEY_MIN_LENGTH} characters)`);
  }
  const envelope = signCommand(kind, payload, { key, signer });
  const conn = await subscriberConnection(config);
  const [setTopic, resultTopic] =
    topic === "silences" ? [conn.topics.silencesSet, conn.topics.silencesResult] : [conn.topics.healingSet, conn.topics.healingResult];
  try {
    type Result = z.output<typeof resultSchema>;
    let settle: (r: Result) => void = () => {};
    const answered = new Promise<Result>((resolve) => (settle = resolve));
    const unsubscribe = await conn.subscribe(resultTopic, (_t, raw) => {
      const r = parseJsonAt(resultSchema, raw, { source: `mqtt.${topic}-result`, sink: { reject() {} }, maxBytes: 8192 });
      if (r.ok && r.value.nonce === envelope.nonce) settle(r.value);
    });
    await conn.publish(setTopic, JSON.stringify(envelope));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no answer on ${resultTopic} within ${timeoutMs} ms: is a controller leading, with MQTT alerts on and the same MQTT_COMMAND_KEY?`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
      await unsubscribe();
    }
  } finally {
    await conn.close();
  }
}
