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
  action: z.enum(["add", "expire"]).optional(),
  id: z.string().max(64).optional(),
  error: z.string().max(4096).optional(),
});

/** Signs `payload`, publishes it on <prefix>/silences/set and returns the controller's answer. */
export async function sendSilenceCommand(
  config: Config,
  payload: Record<string, unknown>,
  signer: string,
  timeoutMs = 15_000,
): Promise<SilenceCommandResult> {
  const key = config.str("MQTT_COMMAND_KEY");
  if (key.length < COMMAND_KEY_MIN_LENGTH) {
    throw new UsageError(`--mqtt needs MQTT_COMMAND_KEY (the cluster's command key, at least ${COMMAND_KEY_MIN_LENGTH} characters)`);
  }
  const envelope = signCommand(SILENCE_COMMAND_KIND, payload, { key, signer });
  const conn = await subscriberConnection(config);
  try {
    let settle: (r: SilenceCommandResult) => void = () => {};
    const answered = new Promise<SilenceCommandResult>((resolve) => (settle = resolve));
    const unsubscribe = await conn.subscribe(conn.topics.silencesResult, (_t, raw) => {
      const r = parseJsonAt(resultSchema, raw, { source: "mqtt.silence-result", sink: { reject() {} }, maxBytes: 8192 });
      if (r.ok && r.value.nonce === envelope.nonce) settle(r.value);
    });
    await conn.publish(conn.topics.silencesSet, JSON.stringify(envelope));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no answer on ${conn.topics.silencesResult} within ${timeoutMs} ms: is a controller leading, with MQTT alerts on and the same MQTT_COMMAND_KEY?`,
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
