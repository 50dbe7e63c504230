// The first five minutes (issue 19): `npm start` on a machine with no cluster runs the built-in demo.
// After its story the demo cluster stays up and healthy while the controller runs, one line says so,
// and nothing on either stream reads as a fault: no warn/error line, no runtime deprecation notice.
// Every other command path a new user tries first is held to the same "no deprecation notice".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { STORY_FINISHED } from "../../src/cli/demo.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { seedHealthyCluster } from "../../src/sim/scenarios.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { waitFor } from "../../testkit/wait.ts";
import { command, FLAVORS, freePort } from "../support/controller.ts";

const flavor = FLAVORS.at(-1)!; // the compiled binary when it is built: what `npm run build` ships
const running: Subprocess[] = [];
let broker: TestMosquitto;
let sim: Simulator;

beforeAll(async () => {
  broker = await TestMosquitto.start();
  sim = await startSimulator({ tls: true });
  seedHealthyCluster(sim.store);
});
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await broker?.stop();
  await sim?.stop();
});

/** A new user's environment: no kubeconfig anywhere, a fresh state directory. */
function freshEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "neuro-firstrun-"));
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", NEURO_STATE_DIR: join(dir, "state"), ...extra };
}

function start(args: string[], env: Record<string, string>) {
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
  return { proc, seen };
}

/** Lines that read as a fault to a new user. */
function alarming(text: string): string[] {
  return text.split("\n").filter((l) => /"log\.level":"(warn|error)"/.test(l) || /DeprecationWarning|\[DEP\d+\]|\(node:\d+\)/.test(l));
}

const readyz = (port: number) =>
  fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status === 200,
    () => false,
  );

describe(`first run with no cluster (${flavor})`, () => {
  test("`controller` (npm start): past the story the cluster stays healthy, one hint line, no warning, still ready", async () => {
    const port = await freePort();
    // The story plays 10x faster (about 6 s); everything else is what a user gets.
    const { proc, seen } = start(["controller"], freshEnv({ NEURO_DEMO_STORY_SPEED: "10", NEURO_HTTP_ADDR: `127.0.0.1:${port}` }));
    const both = () => `stdout:\n${seen.out}\nstderr:\n${seen.err}`;
    await waitFor(() => seen.out.includes(STORY_FINISHED), { timeoutMs: 60_000, message: () => `the story-finished hint (${both()})` });
    // The built-in cluster is still served and judged healthy: the story's failures resolve after it.
    await waitFor(() => readyz(port), { timeoutMs: 20_000, message: () => `/readyz answering 200 after the story (${both()})` });
    const firings = (seen.out.match(/FIRING /g) ?? []).length;
    await waitFor(() => (seen.out.match(/RESOLVED/g) ?? []).length >= firings && firings > 0, {
      timeoutMs: 30_000,
      message: () => `every anomaly of the story resolved (${both()})`,
    });
    expect(await readyz(port)).toBe(true);
    expect(proc.exitCode).toBeNull();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(seen.out.split("\n").filter((l) => l.includes("story finished"))).toEqual([STORY_FINISHED]);
    expect(alarming(seen.out + seen.err)).toEqual([]);
  }, 120_000);

  test("a pause longer than the lease renew deadline (Ctrl-Z, a suspended laptop) is no fault in the demo", async () => {
    const port = await freePort();
    // What the node's configuration may say must not matter: the demo cluster is private to the process.
    const leader = { LEADER_ELECTION: "true", LEADER_LEASE_DURATION: "3s", LEADER_RENEW_DEADLINE: "2s", LEADER_RETRY_PERIOD: "500ms" };
    const env = freshEnv({ NEURO_DEMO_STORY_SPEED: "10", NEURO_HTTP_ADDR: `127.0.0.1:${port}`, ...leader });
    const { proc, seen } = start(["controller"], env);
    await waitFor(() => readyz(port), { timeoutMs: 60_000, message: () => `/readyz (stderr: ${seen.err})` });
    proc.kill("SIGSTOP");
    // The stop must outlast the demo's lease renew deadline; the wait is the point of the test, not a synchronisation.
    await Bun.sleep(6_000);
    proc.kill("SIGCONT");
    await waitFor(() => seen.out.includes(STORY_FINISHED), { timeoutMs: 60_000, message: () => `the story-finished hint (${seen.out})` });
    await waitFor(() => readyz(port), { timeoutMs: 20_000, message: "/readyz after the pause" });
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(alarming(seen.out + seen.err)).toEqual([]);
  }, 120_000);

  test("`demo` alerting a real MQTT broker (the path of the old url.parse notice) prints no deprecation notice and no error", async () => {
    const { proc, seen } = start(
      ["demo", "--duration", "12s"],
      freshEnv({ NEURO_DEMO_STORY_SPEED: "10", ...broker.clientEnv, ALERT_GROUP_WAIT: "1s" }),
    );
    expect(await proc.exited).toBe(0);
    expect(seen.out).toContain(STORY_FINISHED);
    expect(seen.out).toMatch(/\d+ anomalies fired, \d+ resolved/);
    // Warnings about the configuration stay (e.g. MQTT_COMMAND_KEY unset: the user can act on it).
    expect(alarming(seen.out + seen.err).filter((l) => !l.includes('"log.level":"warn"'))).toEqual([]);
  }, 60_000);

  test("the other first commands print no deprecation notice", async () => {
    const kubeconfig = sim.kubeconfig();
    const runs: [string[], Record<string, string>][] = [
      [["--help"], {}],
      [["version"], {}],
      [["check-config"], {}],
      [["scan", "--kubeconfig", kubeconfig], {}],
      [["check-config"], broker.clientEnv],
      // The MQTT readers (mqtt.js behind them is where url.parse was called).
      [["alerts"], broker.clientEnv],
      [["status"], broker.clientEnv],
      [["trace", "top", "--once", "--interval", "200ms"], broker.clientEnv],
      [["silence", "ls", "--kubeconfig", kubeconfig], {}],
    ];
    for (const [args, extra] of runs) {
      const { proc, seen } = start(args, freshEnv(extra));
      // A usage error (2) would not have reached the code paths under test.
      expect({ args, code: await proc.exited }).not.toEqual({ args, code: 2 });
      expect({ args, lines: seen.err.split("\n").filter((l) => /DeprecationWarning|\[DEP\d+\]/.test(l)) }).toEqual({ args, lines: [] });
    }
  }, 60_000);
});
