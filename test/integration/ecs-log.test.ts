// The compiled binary's own log is ECS (issue 16): every line the controller and the agent write on stderr
// passes the vendored ECS references (test/support/ecs.ts), a line about a traced span carries its
// trace.id/span.id, and planted secrets never reach the log — the controller with a real mosquitto and
// the simulator, the agent with real eBPF (skipped where eBPF is unavailable).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceAgentClient } from "../../agent/client.ts";
import { waitFor } from "../../testkit/wait.ts";
import { ebpfUnavailable } from "../agent/helpers.ts";
import { command, ControllerProcess, FLAVORS } from "../support/controller.ts";
import { ecsViolations } from "../support/ecs.ts";
import { startStack, type Stack } from "../support/stack.ts";

const flavor = FLAVORS.at(-1)!; // the compiled binary when it is built
const PLANTED = "planted-secret-7f3a9c"; // a secret value that also ends up inside every topic name
const prefix = `neuro-ecs/${PLANTED}`;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ seed: { nodes: 1, deployments: 1, replicasPerDeployment: 1 }, subscribe: [`${prefix}/alerts`] });
});
afterAll(async () => {
  await stack?.stop();
});

function slowSpanBatch(seq: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const maxNs = 1_500_000_000;
  return JSON.stringify({
    v: 1,
    node: "pi-1",
    arch: "aarch64",
    seq,
    sentAt: new Date().toISOString(),
    drops: { batches: 0, ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0, orphanEvents: 0 },
    spans: [
      {
        traceId: TRACE,
        parentId: SPAN,
        service: "checkout",
        pid: 4242,
        threads: 1,
        syscall: "fsync",
        nr: 82,
        count: 1,
        totalNs: maxNs,
        maxNs,
        startUnixNano: now.toString(),
        endUnixNano: (now + BigInt(maxNs)).toString(),
        slow: [{ tid: 4242, startUnixNano: now.toString(), durNs: maxNs, ret: 0 }],
      },
    ],
  });
}

/** Every stderr line parsed, after checking each one is valid ECS and free of the secrets. */
function checkedLines(stderr: string, secrets: string[]): Record<string, unknown>[] {
  const lines = stderr.split("\n").filter(Boolean);
  expect(lines.length).toBeGreaterThan(3);
  for (const line of lines) {
    expect({ line, violations: ecsViolations(line) }).toEqual({ line, violations: [] });
    for (const s of secrets) expect(line).not.toContain(s);
  }
  return lines.map((l) => JSON.parse(l));
}

test(`${flavor} controller: every log line is ECS, a slow traced span's line has trace.id/span.id, no secret printed`, async () => {
  const ctl = await ControllerProcess.start(flavor, stack.sim.kubeconfig(), {
    LEADER_ELECTION: "false",
    ...stack.broker.clientEnv,
    MQTT_TOPIC_PREFIX: prefix,
    MAIL_PASSWORD: PLANTED,
    NEURO_LOG_LEVEL: "debug",
    TRACE_EXPORT_INTERVAL: "200ms",
    TRACE_ALERT_SYSCALL_LATENCY: "1s",
  });
  try {
    await ctl.ready();
    let seq = 0;
    await waitFor(
      async () => {
        await stack.sub.client.publishAsync(`${prefix}/spans/pi-1`, slowSpanBatch(++seq), { qos: 1 });
        return ctl.stderr.includes('"message":"slow syscall in a traced span"');
      },
      { timeoutMs: 20_000, intervalMs: 300, message: () => `slow-span log line (stderr tail: ${ctl.stderr.slice(-1500)})` },
    );
  } finally {
    await ctl.stop();
  }
  const parsed = checkedLines(ctl.stderr, [PLANTED, stack.broker.password]);
  expect(parsed.every((o) => o["service.name"] === "neurocontroller" && o["ecs.version"] === "8.10.0")).toBe(true);
  expect(parsed.find((o) => o.message === "slow syscall in a traced span")).toMatchObject({
    "trace.id": TRACE,
    "span.id": SPAN,
    tracedService: "checkout",
    syscall: "fsync",
  });
  // The planted value was in the topic names the controller logs: it shows as <redacted>, never raw.
  expect(ctl.stderr).toContain(`neuro-ecs/<redacted>`);
});

const skipAgent = flavor !== "binary" ? "the compiled binary is not built" : ebpfUnavailable();
if (skipAgent) console.log(`[skip] agent ECS log: ${skipAgent}`);

describe.skipIf(!!skipAgent)("agent binary", () => {
  let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  afterAll(() => proc?.kill("SIGKILL"));

  test("every log line is ECS with service.name neurocontroller-agent; a binding's end carries trace.id/span.id", async () => {
    const socketPath = join(mkdtempSync(join(tmpdir(), "neuro-ecs-agent-")), "agent.sock");
    proc = Bun.spawn(command(flavor, ["agent"]), {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...stack.broker.clientEnv,
        MQTT_TOPIC_PREFIX: prefix,
        MAIL_PASSWORD: PLANTED,
        AGENT_NODE_NAME: "pi-ecs",
        AGENT_SOCKET_PATH: socketPath,
        NEURO_LOG_LEVEL: "debug",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    let stderr = "";
    const dec = new TextDecoder();
    const reading = (async () => {
      for await (const c of proc.stderr) stderr += dec.decode(c, { stream: true });
    })();
    await waitFor(() => stderr.includes('"message":"agent running"'), { timeoutMs: 20_000, message: () => `agent up (stderr: ${stderr})` });
    const client = new TraceAgentClient({ socketPath });
    await waitFor(() => client.bind({ traceId: TRACE, spanId: SPAN, pid: process.pid, ttlMs: 60_000 }), { message: "bound over the socket" });
    expect(await client.unbind({ traceId: TRACE })).toBe(true);
    await waitFor(() => stderr.includes('"message":"binding ended"'), { message: () => `binding-ended line (stderr: ${stderr.slice(-1500)})` });
    proc.kill("SIGTERM");
    await proc.exited;
    await reading;
    const parsed = checkedLines(stderr, [PLANTED, stack.broker.password]);
    expect(parsed.every((o) => o["service.name"] === "neurocontroller-agent")).toBe(true);
    expect(parsed.find((o) => o.message === "binding ended")).toMatchObject({ "trace.id": TRACE, "span.id": SPAN, component: "agent" });
  });
});

// The arm64 binary (a Raspberry Pi's) under qemu-user, when `npm run build` made it: the same ECS lines.
const ARM64 = join(import.meta.dir, "../../dist/neurocontroller-linux-arm64");
const SYSROOT = "/usr/aarch64-linux-gnu";
const skipArm = !existsSync(ARM64)
  ? "dist/neurocontroller-linux-arm64 not built (npm run build)"
  : Bun.which("qemu-aarch64-static") === null || !existsSync(SYSROOT)
    ? "qemu-aarch64-static or the arm64 sysroot missing"
    : process.arch === "arm64"
      ? "host is arm64 (covered by the binary test above)"
      : undefined;
if (skipArm) console.log(`[skip] arm64 ECS log: ${skipArm}`);

test.skipIf(!!skipArm)(
  "arm64 binary under qemu (Pi 4 CPU): the demo controller's log lines are ECS, no secret printed",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "neuro-ecs-arm64-"));
    const proc = Bun.spawn(["qemu-aarch64-static", "-L", SYSROOT, "-cpu", "cortex-a72", ARM64, "demo", "--duration", "3s", "--dir", dir], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        ...stack.broker.clientEnv,
        MQTT_TOPIC_PREFIX: prefix,
        ENABLE_MQTT_ALERT: "true",
        MAIL_PASSWORD: PLANTED,
        NEURO_LOG_LEVEL: "debug",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect({ code, stderr: stderr.slice(-1500) }).toEqual({ code: 0, stderr: stderr.slice(-1500) });
    const parsed = checkedLines(stderr, [PLANTED, stack.broker.password]);
    expect(parsed.find((o) => o.message === "controller started")).toMatchObject({ "service.name": "neurocontroller", "ecs.version": "8.10.0" });
    expect(stderr).toContain("neuro-ecs/<redacted>");
  },
  120_000,
);
