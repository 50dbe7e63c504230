// Issue 12 item 4: a misspelled or mistyped configuration key is a compile error wherever config is
// read. The @ts-expect-error lines below are checked by `tsc --noEmit -p .` (npm run typecheck): if the
// accessors ever accept any string again, the directive itself becomes an error.
import { expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { SCHEMA, type ConfigKey, type DurationKey } from "../../../src/config/schema.ts";

function compileTimeChecks(c: Config): void {
  // @ts-expect-error a key that does not exist
  c.ms("DIAGNOSIS_CLEAN_INTERVALL");
  // @ts-expect-error a URL read as a duration
  c.ms("MQTT_URL");
  // @ts-expect-error a duration read as text
  c.str("DIAGNOSIS_CLEAN_INTERVAL");
  // @ts-expect-error a list read as text
  c.str("MAIL_TO");
  // @ts-expect-error a misspelled override
  Config.with({ MQTT_URLX: "mqtt://x" });
  const ok: DurationKey = "KUBERNETES_API_HEALTH_CHECK_INTERVAL";
  c.ms(ok);
}

test("every declared key is a ConfigKey and reads back through its typed accessor", () => {
  const keys: ConfigKey[] = SCHEMA.map((k) => k.key);
  expect(keys.length).toBe(SCHEMA.length);
  const c = Config.with({ KUBERNETES_API_HEALTH_CHECK_INTERVAL: "30s" });
  expect(c.ms("KUBERNETES_API_HEALTH_CHECK_INTERVAL")).toBe(30_000);
  expect(typeof compileTimeChecks).toBe("function"); // type-level only: never called
});
