// Two controllers (separate processes, as on two Pis) through a leader hand-over and an API server
// restart, against the simulator and — when test/support/kube-apiserver.sh has built it — a real
// kube-apiserver. Asserted on the log files themselves: no line written twice, no false resolve/fire
// pair for anomalies whose start is their first observation, APIServerUnreachable only while the
// API really was away and always resolved before it fires again.
import { afterAll, describe, expect, test } from "bun:test";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { ControllerProcess, FLAVORS, type LogLine } from "../support/controller.ts";
import { realApiAvailable, startRealApiServer } from "../support/real-apiserver.ts";
import { waitFor } from "../../testkit/wait.ts";

/** Long enough that a standby started just before the hand-over has not observed it that long itself. */
const FIRST_OBSERVATION_FOR = "10s";
const ENV = {
  LEADER_ELECTION: "true",
  RULE_ENDPOINTS_EMPTY_FOR: FIRST_OBSERVATION_FOR,
  RULE_DEPLOYMENT_UNAVAILABLE_FOR: FIRST_OBSERVATION_FOR,
  DIAGNOSIS_UNREADY_THRESHOLD_DURATION: FIRST_OBSERVATION_FOR,
};
const FLAVOR = FLAVORS[FLAVORS.length - 1]!; // the compiled binary when npm test built it

interface Server {
  kubeconfig: string;
  /** The API server goes away (connections refused)… */
  down(): Promise<void>;
  /** …and comes back on the same address with the same data. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

async function simulatorServer(): Promise<Server> {
  const sim = await startSimulator({ tls: true, clientCertAuth: true });
  return { kubeconfig: sim.kubeconfig(), down: () => sim.stop(), up: () => sim.restart(), stop: () => sim.stop() };
}

async function realServer(): Promise<Server> {
  const kas = await startRealApiServer();
  return { kubeconfig: kas.kubeconfig(), down: () => kas.stopApiserver(), up: () => kas.startApiserver(), stop: () => kas.stop() };
}

const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** Objects written through the API (both servers take the same calls): status always through /status. */
function clusterApi(kubeconfig: string) {
  const client = new KubeClient(loadConnection({ kubeconfig, env: {} })!);
  const create = (path: string, obj: Record<string, unknown>) => client.request("POST", path, { body: obj });
  const setStatus = async (path: string, status: unknown) => {
    const current = await client.request("GET", path);
    return client.request("PUT", `${path}/status`, { body: { ...current, status } });
  };
  return {
    client,
    /** A selector Service whose Endpoints hold only a not-ready address and no last-change annotation: NoReadyAddress from first observation. */
    async serviceWithoutReadyBackend(name: string) {
      await create("/api/v1/namespaces/default/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name },
        spec: { selector: { app: name }, ports: [{ port: 80, protocol: "TCP" }] },
      });
      await create("/api/v1/namespaces/default/endpoints", {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name },
        subsets: [{ notReadyAddresses: [{ ip: "10.42.0.17" }], ports: [{ port: 80, protocol: "TCP" }] }],
      });
    },
    /** A Deployment short of ready replicas with no Available condition: UnavailableReplica from first observation. */
    async deploymentShortOfReplicas(name: string) {
      const labels = { app: name };
      await create("/apis/apps/v1/namespaces/default/deployments", {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name, image: "busybox:1.36" }] } },
        },
      });
      await setStatus(`/apis/apps/v1/namespaces/default/deployments/${name}`, {
        observedGeneration: 1,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 0,
        unavailableReplicas: 2,
      });
    },
    /** A NotReady node (fires after RULE_NODE_NOT_READY_FOR, 1 s): a marker that the leader is writing. */
    async notReadyNode(name: string) {
      await create("/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } } });
      const now = iso();
      await setStatus(`/api/v1/nodes/${name}`, {
        conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "test", lastHeartbeatTime: now, lastTransitionTime: now }],
      });
    },
  };
}

const keyOf = (l: LogLine) => `${l.kind}/${l.namespace}/${l.name}/${l.reason}`;

/** What must hold of the log files, whatever happened. */
function expectCleanLogs(files: LogLine[][]) {
  const all = files.flat();
  // No line twice, in one file or across both (the same anomaly, status and eventTime).
  const ids = all.map((l) => `${l.status} ${keyOf(l)} ${l.eventTime}`);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  // In each file a key alternates firing → resolved → firing…; over both files a key never fires
  // more often than it resolved plus once.
  for (const lines of files) {
    const last = new Map<string, string>();
    for (const l of lines) {
      expect(`${keyOf(l)} ${l.status} after ${last.get(keyOf(l)) ?? "nothing"}`).not.toBe(`${keyOf(l)} ${l.status} after ${l.status}`);
      last.set(keyOf(l), l.status);
    }
  }
  const byKey = new Map<string, { firing: number; resolved: number }>();
  for (const l of all) {
    const c = byKey.get(keyOf(l)) ?? { firing: 0, resolved: 0 };
    c[l.status]++;
    byKey.set(keyOf(l), c);
  }
  for (const [key, c] of byKey)
    expect(`${key}: ${c.firing} firing, ${c.resolved} resolved`).toBe(`${key}: ${Math.min(c.firing, c.resolved + 1)} firing, ${c.resolved} resolved`);
}

const tiers: [string, () => Promise<Server>][] = [["simulator", simulatorServer]];
if (realApiAvailable()) tiers.push(["real kube-apiserver", realServer]);

for (const [tier, startServer] of tiers) {
  describe(`leadership through a hand-over and an API server restart (${tier}, ${FLAVOR})`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => {});
    });

    test("no line twice, no false resolve/fire pair, APIServerUnreachable only while the API is away", async () => {
      const server = await startServer();
      cleanups.push(() => server.stop());
      const api = clusterApi(server.kubeconfig);
      // A real apiserver is ready before its bootstrap controller has created `default` (writes there get 404).
      if (tier !== "simulator") {
        await waitFor(() => api.client.request("GET", "/api/v1/namespaces/default").then(() => true), {
          timeoutMs: 30_000,
          message: "namespace default",
        });
      }
      const started: ControllerProcess[] = [];
      cleanups.push(async () => {
        for (const c of started) c.proc.kill("SIGKILL");
      });
      const run = async (identity: string, dirs?: { logDir: string; stateDir: string }) => {
        const c = await ControllerProcess.start(FLAVOR, server.kubeconfig, { ...ENV, LEADER_IDENTITY: identity }, dirs);
        started.push(c);
        await c.ready(60_000);
        return c;
      };
      const leads = async (c: ControllerProcess) => (await c.metric("neurocontroller_is_leader").catch(() => 0)) === 1;

      // 1. A alone leads; two anomalies whose start is only their first observation fire after 10 s.
      const a = await run("node-a");
      await waitFor(() => leads(a), { message: "node-a leads" });
      await api.serviceWithoutReadyBackend("web");
      await api.deploymentShortOfReplicas("api");
      const held = [
        { kind: "Endpoints", namespace: "default", name: "web", reason: "NoReadyAddress" },
        { kind: "Deployment", namespace: "default", name: "api", reason: "UnavailableReplica" },
      ];
      for (const h of held) await a.line({ ...h, status: "firing" }, 30_000);

      // 2. B starts now (its own first observation is fresh), then A crashes: B takes over.
      const b = await run("node-b");
      a.proc.kill("SIGKILL");
      await a.exited;
      await waitFor(() => leads(b), { timeoutMs: 15_000, message: `node-b takes over (stderr: ${b.stderr.slice(-1500)})` });
      await api.notReadyNode("marker-1");
      await b.line({ kind: "Node", name: "marker-1", reason: "NodeNotReady", status: "firing" }, 20_000);
      // B has written since it took over: a false resolve would be there by now.
      for (const h of held) expect(b.lines().filter((l) => keyOf(l) === keyOf(h as LogLine))).toEqual([]);

      // 3. A comes back as a standby (same disks), then the API server restarts under both.
      const a2 = await run("node-a", { logDir: a.logDir, stateDir: a.stateDir });
      await waitFor(async () => !(await leads(a2)) && (await leads(b)), { message: "node-b still leads, node-a stands by" });
      await server.down();
      const downAt = Date.now();
      await waitFor(() => b.stderr.includes("lease not renewed within LEADER_RENEW_DEADLINE"), {
        timeoutMs: 15_000,
        message: "the leader stops acting",
      });
      // Longer than a lease (3 s): by the Lease record alone the standby could take over the moment the API is back.
      await waitFor(() => Date.now() - downAt > 4000 && a2.stderr.includes("API server unreachable"), { timeoutMs: 15_000 });
      await server.up();
      const upAt = Date.now();
      await api.notReadyNode("marker-2");
      const writer = await waitFor(() => [a2, b].find((c) => c.lines().some((l) => l.name === "marker-2" && l.status === "firing")), {
        timeoutMs: 30_000,
        message: () => `a leader logs marker-2 (a: ${a2.stderr.slice(-1200)}\nb: ${b.stderr.slice(-1200)})`,
      });
      // Whatever APIServerUnreachable said, it is resolved once the API answers again.
      await waitFor(
        () => {
          const api = [...a.lines(), ...b.lines()].filter((l) => l.reason === "APIServerUnreachable");
          return api.filter((l) => l.status === "firing").length === api.filter((l) => l.status === "resolved").length;
        },
        { timeoutMs: 10_000, message: "APIServerUnreachable resolved" },
      );
      // a2 wrote into a's log dir: a.lines() is node-a's whole log.
      const files = [a.lines(), b.lines()];
      expectCleanLogs(files);
      for (const h of held) {
        const lines = files.flat().filter((l) => keyOf(l) === keyOf(h as LogLine));
        expect(lines.map((l) => l.status)).toEqual(["firing"]); // never resolved, never re-fired
      }
      // APIServerUnreachable fires only from failed checks while the API was away, never after it answered.
      for (const l of files.flat().filter((l) => l.reason === "APIServerUnreachable" && l.status === "firing")) {
        expect(Date.parse(l.time)).toBeLessThan(upAt + 1000); // `time` has whole seconds
        expect(Date.parse(l.eventTime)).toBeGreaterThanOrEqual(downAt - 1000);
      }
      // Quiet retries: one "not answering" warning per outage per controller, then one summary.
      for (const c of [a2, b]) {
        const warnings = c.stderr.split("\n").filter((l) => l.includes("API server not answering"));
        const perRetry = c.stderr.split("\n").filter((l) => l.includes("list/watch failed") && l.includes("ECONNREFUSED"));
        expect(perRetry).toEqual([]);
        expect(warnings.length).toBeGreaterThanOrEqual(1);
        expect(warnings.length).toBeLessThanOrEqual(3); // at most a flap or two while the server starts listening
        expect(c.stderr).toContain("API server answering again");
      }
      expect([a2, b]).toContain(writer);
      // A clean stop hands leadership back without claiming it was lost.
      for (const c of [a2, b]) {
        const before = c.stderr.length;
        expect(await c.stop()).toBe(0);
        expect(c.stderr.slice(before)).not.toContain("lost leadership");
      }
    }, 180_000);
  });
}
