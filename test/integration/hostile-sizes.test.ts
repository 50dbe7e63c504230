// Issue 10 item 8 end to end: 40 Warning events with 1 MiB messages against the controller process.
// Before the bounds, this took the controller past 1 GB, state.db to 210 MB and the shared-state
// ConfigMap to 42 MB. Now every kept string is cut, so the log lines, the state database and the
// ConfigMap stay small whatever the API server sends.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { MAX_ANOMALY_MESSAGE_LENGTH } from "../../src/kube/bounds.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { warningEvent } from "../../src/sim/injectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { ControllerProcess } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

const EVENTS = 40;
let sim: Simulator;
let ctl: ControllerProcess;

beforeAll(async () => {
  sim = await startSimulator({ tls: true, clientCertAuth: true });
  seedHealthyCluster(sim.store, { nodes: 1, deployments: 1, replicasPerDeployment: 1 });
  const huge = "M".repeat(1024 * 1024);
  for (let i = 0; i < EVENTS; i++) {
    warningEvent(sim.store, {
      involvedObject: { kind: "Pod", name: `victim-${i}`, namespace: "default" },
      reason: "FailedMount",
      message: `${i} ${huge}`,
    });
  }
  ctl = await ControllerProcess.start("source", sim.kubeconfig());
});
afterAll(async () => {
  await ctl?.stop();
  await sim?.stop();
});

function vmHwmKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

test("40 events with 1 MiB messages: bounded log lines, state.db, shared-state ConfigMap and memory", async () => {
  const lines = await waitFor(
    () => {
      const l = ctl.lines().filter((x) => x.reason === "FailedMount" && x.status === "firing");
      return l.length >= EVENTS ? l : undefined;
    },
    { timeoutMs: 60_000, message: () => `${EVENTS} FailedMount lines (have ${ctl.lines().length}; stderr: ${ctl.stderr.slice(-1500)})` },
  );
  for (const l of lines) {
    expect(l.message.length).toBeLessThanOrEqual(MAX_ANOMALY_MESSAGE_LENGTH);
    expect(l.message).toContain("…");
  }
  const logBytes = statSync(join(ctl.logDir, "cleaned_events.log")).size;
  expect(logBytes).toBeLessThan(EVENTS * 8 * 1024);

  // The leader publishes its logged set to the ConfigMap beside its Lease.
  const cm = await waitFor(
    () => {
      const c = sim.store.get("configmaps", "kube-system", "neurocontroller-state");
      const logged = c?.data?.["logged.json"];
      return logged && Object.keys(JSON.parse(logged)).filter((k) => k.includes("FailedMount")).length >= EVENTS ? c : undefined;
    },
    { timeoutMs: 30_000, message: "the shared state with every FailedMount entry" },
  );
  const cmBytes = Object.entries(cm.data as Record<string, string>).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  expect(cmBytes).toBeLessThan(512 * 1024);

  const stateBytes = ["state.db", "state.db-wal"]
    .map((f) => join(ctl.stateDir, f))
    .filter(existsSync)
    .reduce((n, f) => n + statSync(f).size, 0);
  expect(stateBytes).toBeLessThan(8 * 1024 * 1024);
  // Every cut is counted in /metrics (the 40 messages at least; the list and the watch may both deliver them).
  expect(
    await waitFor(async () => ((await ctl.metric("neurocontroller_input_truncated_total")) ?? 0) >= EVENTS, { message: "input_truncated_total" }),
  ).toBe(true);
  expect(await ctl.metric("neurocontroller_shared_state_dropped_entries")).toBe(0);
  // Peak resident memory: the 40 MiB list is parsed once, nothing keeps the megabytes.
  expect(vmHwmKiB(ctl.proc.pid)).toBeLessThan(600 * 1024);
});
