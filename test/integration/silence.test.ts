// Silences from the CLI and from the MQTT command topic: stored in the cluster, honoured by the
// running controller (a silenced incident notifies nobody, yet is still in cleaned_events.log).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, type SeededCluster } from "../../src/sim/kit.ts";
import { signCommand } from "../../src/mqtt/signed-command.ts";
import { command, ControllerProcess } from "../support/controller.ts";
import type { TestMosquitto } from "../../testkit/mosquitto.ts";
import type { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { startStack, type Stack } from "../support/stack.ts";
import { waitFor } from "../../testkit/wait.ts";

async function cli(args: string[]) {
  const p = Bun.spawn(command("source", args), {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", USER: "tester" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const COMMAND_KEY = "silence-test-command-key-0123456789";

describe("silences", () => {
  let stack: Stack;
  let sim: Simulator;
  let seeded: SeededCluster;
  let broker: TestMosquitto;
  let sub: TestSubscriber;
  let ctl: ControllerProcess;
  const prefix = "neurocontroller/silence-test";

  beforeAll(async () => {
    stack = await startStack({ seed: { nodes: 2, deployments: 3, replicasPerDeployment: 1 }, subscribe: [`${prefix}/alerts`] });
    ({ sim, seeded, broker, sub } = stack);
  });
  afterAll(async () => {
    await ctl?.stop();
    await stack?.stop();
  });

  test("CLI: add validates and stores; ls shows it; rm expires it (kept for the audit trail)", async () => {
    const kc = sim.kubeconfig();
    const bad = await cli(["silence", "add", "color=blue", "--kubeconfig", kc, "--duration", "1h", "--comment", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("color");
    const noComment = await cli(["silence", "add", "namespace=shop", "--kubeconfig", kc, "--duration", "1h"]);
    expect(noComment.code).toBe(2);
    expect(noComment.err).toContain("comment");
    const add = await cli([
      "silence",
      "add",
      "namespace=default",
      "name=api-*",
      "--kubeconfig",
      kc,
      "--duration",
      "1h",
      "--comment",
      "rolling out api",
      "--json",
    ]);
    expect(add.code).toBe(0);
    const s = JSON.parse(add.out);
    expect(s.createdBy).toContain("tester@");
    const cm = sim.store.get("configmaps", "kube-system", "neurocontroller-silences")!;
    expect(JSON.parse(cm.data["silences.json"])[0].id).toBe(s.id);
    const ls = await cli(["silence", "ls", "--kubeconfig", kc]);
    expect(ls.out).toContain(s.id);
    expect(ls.out).toContain("active");
    const rm = await cli(["silence", "rm", s.id, "--kubeconfig", kc]);
    expect(rm.code).toBe(0);
    expect((await cli(["silence", "ls", "--kubeconfig", kc])).out).not.toContain(s.id);
    expect((await cli(["silence", "ls", "--all", "--kubeconfig", kc])).out).toMatch(new RegExp(`${s.id}\\s+expired`));
  });

  test("MQTT command adds a silence the controller honours: the silenced incident is logged but not notified", async () => {
    ctl = await ControllerProcess.start("source", sim.kubeconfig(), {
      LEADER_ELECTION: "false",
      ...broker.clientEnv,
      MQTT_TOPIC_PREFIX: prefix,
      DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
      ALERT_GROUP_WAIT: "500ms",
      MQTT_COMMAND_KEY: COMMAND_KEY,
    });
    await ctl.ready();
    // the controller subscribes to its command topic once it leads; publish until the silence is stored
    // (each attempt signed afresh: a repeated nonce would be refused as a replay)
    const cmd = () =>
      JSON.stringify(
        signCommand(
          "silence",
          { action: "add", matchers: "name=worker-*", duration: "1h", comment: "known issue" },
          { key: COMMAND_KEY, signer: "ops" },
        ),
      );
    await waitFor(
      async () => {
        await sub.client.publishAsync(`${prefix}/silences/set`, cmd(), { qos: 1 });
        return sim.store.get("configmaps", "kube-system", "neurocontroller-silences")?.data?.["silences.json"]?.includes("known issue");
      },
      { message: "silence stored via MQTT", intervalMs: 300 },
    );
    const worker = seeded.deployments.find((d) => d.name === "worker")!.pods[0]!;
    const api = seeded.deployments.find((d) => d.name === "api")!.pods[0]!;
    crashLoopPod(sim.store, "default", worker);
    crashLoopPod(sim.store, "default", api);
    await ctl.line({ name: worker, reason: "CrashLoopBackOff", status: "firing" });
    await waitFor(() => sub.on(`${prefix}/alerts`).some((m) => m.payload.includes(api)), { message: "api alert notified" });
    const alerts = sub.on(`${prefix}/alerts`).map((m) => JSON.parse(m.payload));
    expect(alerts.some((a) => a.alerts.some((x: { name: string }) => x.name === worker))).toBe(false);
    // malformed commands are counted, not fatal
    await sub.client.publishAsync(`${prefix}/silences/set`, "{not json", { qos: 1 });
    await waitFor(async () => ((await ctl.metric("neurocontroller_malformed_commands_total")) ?? 0) >= 1, { message: "malformed command counted" });
  });
});
