// Objects captured from real clusters (test/fixtures/real-world, sources in SOURCES.md), written to the
// simulator — and to a real kube-apiserver when test/support/kube-apiserver.sh has built one — through
// the API as a user would (status through /status), then judged by scan's single pass (scanCluster).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scanCommand } from "../../src/cli/scan.ts";
import { Config } from "../../src/config/load.ts";
import { scanCluster } from "../../src/controller/snapshot.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { startSimulator } from "../../src/sim/index.ts";
import type { Anomaly } from "../../src/model/anomaly.ts";
import { evaluatePod } from "../../src/watchers/pod.ts";
import { memCache, ruleContext } from "../support/fixtures.ts";
import { realApiAvailable, startRealApiServer } from "../support/real-apiserver.ts";
import { waitFor } from "../../testkit/wait.ts";

const DIR = join(import.meta.dir, "../fixtures/real-world");
const fixture = (name: string): KubeObject => JSON.parse(readFileSync(join(DIR, name), "utf8"));
const PLURAL: Record<string, string> = { Pod: "pods", Service: "services", Endpoints: "endpoints" };

/** POST without status (a real server drops it on create), then PUT the captured status through /status. */
async function put(client: KubeClient, obj: KubeObject): Promise<void> {
  const path = `/api/v1/namespaces/${obj.metadata.namespace}/${PLURAL[obj.kind!]}`;
  const { status, ...rest } = obj as KubeObject & { status?: unknown };
  await client.request("POST", path, { body: rest });
  if (status) {
    const current = await client.request("GET", `${path}/${obj.metadata.name}`);
    await client.request("PUT", `${path}/${obj.metadata.name}/status`, { body: { ...current, status } });
  }
}

/**
 * Where the API serves discovery.k8s.io/v1, a cluster's EndpointSlice controller keeps a slice beside each
 * selector Service's Endpoints (with its own last-change-trigger-time annotation); neither server here
 * runs one, so the test writes the slice it would, from the captured Endpoints.
 */
async function sliceLikeTheController(client: KubeClient, ep: KubeObject): Promise<void> {
  const served = await client.request("GET", "/apis/discovery.k8s.io/v1").catch(() => undefined);
  if (!served) return; // 1.20: no v1 slices, the rules read the core Endpoints
  const subsets = (ep as { subsets?: { notReadyAddresses?: { ip: string }[]; addresses?: { ip: string }[]; ports?: unknown[] }[] }).subsets ?? [];
  await client.request("POST", `/apis/discovery.k8s.io/v1/namespaces/${ep.metadata.namespace}/endpointslices`, {
    body: {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${ep.metadata.name}-mirror`,
        labels: { "kubernetes.io/service-name": ep.metadata.name },
        annotations: ep.metadata.annotations,
      },
      addressType: "IPv4",
      endpoints: subsets.flatMap((ss) => [
        ...(ss.addresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
        ...(ss.notReadyAddresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: false } })),
      ]),
      ports: subsets[0]?.ports ?? [],
    },
  });
}

const find = (anomalies: Anomaly[], name: string, reason: string) => anomalies.find((a) => a.name === name && a.reason === reason);

const tiers: [string, () => Promise<{ kubeconfig: string; stop(): Promise<void> }>][] = [
  [
    "simulator",
    async () => {
      const sim = await startSimulator({ tls: true, clientCertAuth: true });
      return { kubeconfig: sim.kubeconfig(), stop: () => sim.stop() };
    },
  ],
];
if (realApiAvailable())
  tiers.push([
    "real kube-apiserver",
    async () => {
      const kas = await startRealApiServer();
      return { kubeconfig: kas.kubeconfig(), stop: () => kas.stop() };
    },
  ]);

for (const [tier, startServer] of tiers) {
  describe(`scan on objects from real clusters (${tier})`, () => {
    const stops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const s of stops) await s();
    });
    let anomalies: Anomaly[] = [];

    test("the fixtures go in through the API and scan lists them", async () => {
      const server = await startServer();
      stops.push(() => server.stop());
      const client = new KubeClient(loadConnection({ kubeconfig: server.kubeconfig, env: {} })!);
      // A real apiserver is ready before its bootstrap controller has created `default` (writes there get 404).
      if (tier !== "simulator") {
        await waitFor(() => client.request("GET", "/api/v1/namespaces/default").then(() => true), {
          timeoutMs: 30_000,
          message: "namespace default",
        });
      }
      for (const f of ["pod-failed-oomkilled.json", "pod-notready-last-oomkilled.json", "pod-ready-last-oomkilled.json", "pod-crashloop-old.json"]) {
        await put(client, fixture(f));
      }
      for (const f of ["service-nginx.json", "endpoints-nginx-notready.json", "service-bashible-api.json", "endpoints-bashible-api-undated.json"]) {
        await put(client, fixture(f));
        if (f.startsWith("endpoints-")) await sliceLikeTheController(client, fixture(f));
      }
      // A young crash-looping pod (no kubelet startTime: started now): every restart is inside the window.
      const young = fixture("pod-crashloop-old.json");
      young.metadata.name = "young-crashloop";
      delete (young.status as { startTime?: string }).startTime;
      await put(client, young);
      const snapshot = await scanCluster(client, Config.with({}), Date.now());
      anomalies = snapshot.anomalies;
      expect(snapshot.listed.Pod).toBeGreaterThanOrEqual(5);
    }, 120_000);

    test("(a) a Failed pod whose container was OOMKilled is reported with no Job watching it", () => {
      const a = find(anomalies, "f0601d8477447476d919-oom-task-0", "OOMKilled");
      expect(a?.message).toContain("terminated with OOMKilled (exit code 137)");
      expect(a?.message).toContain("phase Failed");
      expect(a?.eventTime).toBe("2020-02-05T19:50:15Z");
    });

    test("(b) a not-ready pod whose last run was OOMKilled says so in its NotReady message", () => {
      const a = find(anomalies, "reportportal-uat-0", "NotReady");
      expect(a?.message).toMatch(/Container uat was OOMKilled \(exit code 137\) .* ago, 2 restarts so far\./);
      expect(a?.message).toContain("memory limit");
      // control: the ready pod with an old OOM kill raises neither
      expect(anomalies.filter((x) => x.name === "cache-0")).toEqual([]);
    });

    test("(c) a Service with only not-ready endpoints is reported: dated by the annotation, or with its duration unknown", () => {
      const dated = find(anomalies, "nginx-service", "NoReadyAddress");
      expect(dated?.eventTime).toBe("2024-06-12T02:41:41Z");
      expect(dated?.message).toContain("1 endpoint exists but none is ready for ");
      const undated = find(anomalies, "bashible-api", "NoReadyAddress");
      expect(undated?.message).toContain("duration unknown");
    });

    test("(d) scan --help and scan agree on restart rates: only a pod started inside the window", () => {
      expect(scanCommand.usage).toContain("scan reports one only\nfor a Pod started within RULE_POD_RESTART_WINDOW");
      expect(find(anomalies, "nsapp-fa868e46640f566de09528-0", "CrashLoopBackOff")).toBeDefined();
      expect(find(anomalies, "nsapp-fa868e46640f566de09528-0", "HighRestartRate")).toBeUndefined();
      expect(find(anomalies, "young-crashloop", "HighRestartRate")?.message).toContain("restarted 617 times");
    });
  });
}

describe("real-world fixtures, rule level", () => {
  test("(a) a Failed pod owned by a watched Job is left to JobFailed once its crash is old", () => {
    const p = fixture("pod-failed-oomkilled.json");
    p.metadata.ownerReferences = [{ apiVersion: "batch/v1", kind: "Job", name: "oom-task", uid: "u1", controller: true }];
    const job = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "oom-task", namespace: "default" } } as KubeObject;
    const watched = ruleContext({ cache: memCache([job]), nowMs: 0 }).ctx;
    watched.now = Date.parse("2026-01-01T00:00:00Z");
    expect(evaluatePod(p, watched).map((a) => a.reason)).toEqual([]);
    const unwatched = ruleContext({ nowMs: 0 }).ctx;
    unwatched.now = watched.now;
    expect(evaluatePod(p, unwatched).map((a) => a.reason)).toEqual(["OOMKilled"]);
  });
});
