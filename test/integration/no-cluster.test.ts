// A node with no cluster configured (fresh from the image, or `npm start` in a checkout) runs the
// built-in demo cluster. Its anomalies are made up, so they must never reach the user's real alert
// channels or real cleaned_events.log. Control: an explicit `neurocontroller demo` with the very same
// settings does deliver to the same broker, so the silence of the fallback is not a broken setup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { command, FLAVORS } from "../support/controller.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { waitFor } from "../../testkit/wait.ts";

const flavor = FLAVORS.at(-1)!; // the compiled binary when it is built: what a node runs
let broker: TestMosquitto;
let sub: TestSubscriber;
const running: Subprocess[] = [];

beforeAll(async () => {
  broker = await TestMosquitto.start();
  sub = await TestSubscriber.connect(broker, ["nc-fallback/#", "nc-control/#"]);
});
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await sub?.close();
  await broker?.stop();
});

/** Starts a process with a node's settings (state + log directories, a broker) and no kubeconfig anywhere. */
function start(args: string[], prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), "neuro-nocluster-"));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: "/nonexistent",
    NEURO_STATE_DIR: join(dir, "state"),
    NEURO_LOG_DIR: join(dir, "log"),
    ...broker.clientEnv,
    MQTT_TOPIC_PREFIX: prefix,
    ALERT_GROUP_WAIT: "1s",
  };
  const proc = Bun.spawn(command(flavor, args), { env, stdout: "pipe", stderr: "pipe" });
  running.push(proc);
  const seen = { out: "", err: "" };
  const dec = new TextDecoder();
  void (async () => {
    for await (const c of proc.stdout) seen.out += dec.decode(c, { stream: true });
  })();
  void (async () => {
    for await (const c of proc.stderr) seen.err += dec.decode(c, { stream: true });
  })();
  return { proc, dir, seen };
}

describe(`no cluster configured (${flavor})`, () => {
  test("control: an explicit `demo` with the same settings alerts the broker", async () => {
    const { proc } = start(["demo", "--keep-running"], "nc-control");
    await waitFor(() => sub.on("nc-control/alerts").length > 0, { timeoutMs: 60_000, message: "a demo alert on nc-control/alerts" });
    proc.kill("SIGTERM");
    await proc.exited;
  }, 90_000);

  test("`controller` falls back to the demo: logged in the demo directory only, no alert to any channel", async () => {
    const { proc, dir, seen } = start(["controller"], "nc-fallback");
    // Well past the point where the control alerted: the story's first fix (a RESOLVED line, ~35 s in).
    await waitFor(() => /RESOLVED/.test(seen.out), {
      timeoutMs: 75_000,
      message: () => `a RESOLVED line (stdout so far:\n${seen.out}\nstderr:\n${seen.err})`,
    });
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(seen.err).toContain("running the built-in demo cluster");
    expect(seen.err).toContain("to no alert channel");
    expect(readFileSync(join(dir, "state/demo/log/cleaned_events.log"), "utf8")).toMatch(/"status":"firing"/);
    expect(existsSync(join(dir, "log/cleaned_events.log"))).toBe(false);
    expect(sub.on("nc-fallback/alerts")).toEqual([]);
  }, 90_000);
});
