// Host health end to end: the agent (`agent --host-only`, reading a fake /sys + /proc tree through
// NEURO_HOST_ROOT) publishes retained snapshots over a real mosquitto; the controller (against the HTTPS
// simulator) turns the tree's flip to under-voltage into a Host anomaly in cleaned_events.log and one alert;
// the node's NotReady afterwards joins that incident with the host anomaly as its root; the flip back
// resolves it. `hosts` and `status` show the host's state from the broker. Also: the real systeminformation
// calls inside the compiled binary (`agent --host-snapshot` on this machine).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { nodeNotReady } from "../../src/sim/injectors.ts";
import { hostSnapshotSchema } from "../../src/hosts/snapshot.ts";
import { waitFor } from "../../testkit/wait.ts";
import { HostTree } from "../unit/hosts/host-tree.ts";
import { BINARY, command, ControllerProcess, FLAVORS } from "../support/controller.ts";
import { startStack, type Stack } from "../support/stack.ts";

const flavor = FLAVORS.at(-1)!; // the compiled binary when `npm test` built it
const prefix = "neurocontroller/host-e2e";
let stack: Stack;
let ctl: ControllerProcess | undefined;
let agent: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let agentStderr = "";
const tree = new HostTree().pi();
const tree2 = new HostTree().pi();
const agents: Subprocess[] = [];

function startAgent(node: string, root: string): Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(command(flavor, ["agent", "--host-only", "--node", node]), {
    env: { ...baseEnv(), NEURO_HOST_ROOT: root, HOST_HEALTH_INTERVAL: "300ms" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  agents.push(p);
  return p;
}

const baseEnv = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/root",
  ...stack.broker.clientEnv,
  MQTT_TOPIC_PREFIX: prefix,
});

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  // HOST_UNREPORTED_AFTER: the agent reports every 300 ms here; a busy machine must not make it look silent
  const p = Bun.spawn(command(flavor, args), { env: { ...baseEnv(), HOST_UNREPORTED_AFTER: "200" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out + err };
}

beforeAll(async () => {
  stack = await startStack({ seed: { nodes: 2, deployments: 1, replicasPerDeployment: 1 }, subscribe: [`${prefix}/alerts`, `${prefix}/hosts/+`] });
});
afterAll(async () => {
  for (const a of agents) a.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.exited));
  await ctl?.stop();
  await stack?.stop();
  tree.cleanup();
  tree2.cleanup();
});

describe(`host health (${flavor})`, () => {
  test("under-voltage on the fake tree → Host anomaly and one alert; NotReady joins it under the host root; flip back resolves", async () => {
    const node = stack.seeded.nodes[0]!;
    ctl = await ControllerProcess.start(flavor, stack.sim.kubeconfig(), {
      LEADER_ELECTION: "false",
      ...stack.broker.clientEnv,
      MQTT_TOPIC_PREFIX: prefix,
      DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
      ALERT_GROUP_WAIT: "300ms",
      ALERT_GROUP_INTERVAL: "1s",
      HOST_UNREPORTED_AFTER: "20", // 6 s at the agents' 300 ms: a busy machine must not make them look silent
    });
    await ctl.ready();
    agent = startAgent(node, tree.root);
    void (async () => {
      for await (const chunk of agent!.stderr) agentStderr += new TextDecoder().decode(chunk);
    })();
    const snapshots = () => stack.sub.on(`${prefix}/hosts/${node}`).map((m) => JSON.parse(m.payload));
    await waitFor(() => snapshots().length > 0, { timeoutMs: 20_000, message: `a snapshot from the agent (stderr: ${agentStderr.slice(-800)})` });
    const first = snapshots()[0];
    expect(hostSnapshotSchema.safeParse(first).success).toBe(true);
    expect(first).toMatchObject({ node, temperature: { celsius: 48.3 }, throttled: { raw: "0x0" }, rootFs: { readOnly: false } });
    expect(stack.sub.on(`${prefix}/hosts/${node}`).some((m) => m.retain === false)).toBe(true);

    // the supply sags: the firmware sets under-voltage (and throttling) now and since boot
    tree.throttled("50005");
    const fired = await ctl.line({ kind: "Host", name: node, reason: "UnderVoltage", status: "firing" });
    expect(fired).toMatchObject({ severity: "critical", node, category: "Host" });
    expect(fired.message).toContain("get_throttled 0x50005");
    await ctl.line({ kind: "Host", name: node, reason: "Throttled", status: "firing" });
    const alerts = () => stack.sub.on(`${prefix}/alerts`).map((m) => JSON.parse(m.payload));
    await waitFor(() => alerts().some((a) => a.status === "firing"), { message: "an alert on MQTT" });
    const firstAlert = alerts()[0];
    expect(alerts()).toHaveLength(1);
    expect(firstAlert.alerts[0]).toMatchObject({ kind: "Host", name: node, reason: "UnderVoltage" });
    expect(firstAlert.title).toContain(`UnderVoltage on Host ${node}`);

    // `hosts` and `status` read the broker's retained snapshot
    const hosts = await cli(["hosts"]);
    expect(hosts.code).toBe(3);
    expect(hosts.out).toContain(node);
    expect(hosts.out).toMatch(/UNDER-VOLTAGE,THROTTLED \(since boot: under-voltage,throttled\) 0x50005/);
    expect(hosts.out).toContain("UnderVoltage(critical)");
    expect(hosts.out).toContain("48.3°C");
    const status = await cli(["status"]);
    expect(status.out).toContain(`${node}: UnderVoltage [critical]`);

    // then the node drops out: its NotReady joins the host incident, the host anomaly stays the root
    nodeNotReady(stack.sim.store, node);
    await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });
    const joined = await waitFor(() => alerts().find((a) => a.alerts.some((x: { reason: string }) => x.reason === "NodeNotReady")), {
      message: "an alert with NodeNotReady",
    });
    expect(joined.incidentId).toBe(firstAlert.incidentId);
    expect(joined.alerts[0]).toMatchObject({ kind: "Host", reason: "UnderVoltage" });
    const nodeAlert = joined.alerts.find((x: { reason: string }) => x.reason === "NodeNotReady");
    expect(nodeAlert.message).toMatch(/under-voltage detected \d+ s before \(UnderVoltage on host /);

    // power restored: the now-bits clear (since-boot bits stay, as on a real Pi) → UnderVoltage resolves
    tree.throttled("50000");
    await ctl.line({ kind: "Host", name: node, reason: "UnderVoltage", status: "resolved" });
    await ctl.line({ kind: "Host", name: node, reason: "Throttled", status: "resolved" });
    expect(new Set(alerts().map((a) => a.incidentId)).size).toBe(1);

    // a snapshot for another node on this node's topic, and garbage, are refused and counted
    await stack.sub.client.publishAsync(`${prefix}/hosts/${node}`, JSON.stringify({ ...first, node: "intruder" }), { qos: 1 });
    await stack.sub.client.publishAsync(`${prefix}/hosts/${node}`, "{oops", { qos: 1 });
    const refused = async () => {
      const text = await (await fetch(`${ctl!.url}/metrics`)).text();
      return Number(/^neurocontroller_malformed_input_total\{source="mqtt\.host-snapshot"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await waitFor(async () => (await refused()) >= 2, { message: "refusals counted" });
    expect(ctl.lines().some((l) => l.name === "intruder")).toBe(false);
  });

  test("an agent that stops reporting while its Node is Ready raises HostUnreported; its return resolves it", async () => {
    const node = stack.seeded.nodes[1]!;
    const first = startAgent(node, tree2.root);
    await waitFor(() => stack.sub.on(`${prefix}/hosts/${node}`).length > 0, { timeoutMs: 20_000, message: "a snapshot from the second agent" });
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const silent = await ctl!.line({ kind: "Host", name: node, reason: "HostUnreported", status: "firing" }, 30_000);
    expect(silent.severity).toBe("warning");
    expect(silent.message).toContain("while its Node is Ready");
    startAgent(node, tree2.root);
    await ctl!.line({ kind: "Host", name: node, reason: "HostUnreported", status: "resolved" }, 30_000);
  });
});

describe.skipIf(!existsSync(BINARY))("systeminformation in the compiled binary", () => {
  test("agent --host-snapshot on this machine: memory total > 0, at least one filesystem, schema-valid", async () => {
    const p = Bun.spawn([BINARY, "agent", "--host-snapshot", "--node", "this-host"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdout: "pipe",
    });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    const s = hostSnapshotSchema.parse(JSON.parse(out));
    expect(s.memory!.totalBytes).toBeGreaterThan(0);
    expect(s.memory!.availableBytes).toBeLessThanOrEqual(s.memory!.totalBytes);
    expect(s.filesystems!.length).toBeGreaterThanOrEqual(1);
    expect(s.filesystems!.every((f) => f.sizeBytes > 0 && f.usedPercent >= 0 && f.usedPercent <= 100)).toBe(true);
    expect(s.rootFs!.readOnly).toBe(false);
    expect(s.load!.cpus).toBeGreaterThan(0);
    expect(s.clock!.uptimeSeconds).toBeGreaterThan(0);
  });
});
