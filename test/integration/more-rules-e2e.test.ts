// The remaining kinds and rules end to end, table-driven: an object in a failing state is created,
// the controller logs the anomaly, the object is deleted, the controller logs it resolved. Against the simulator and a
// real kube-apiserver (test/support/cluster.ts: statuses written through /status).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../src/kube/types.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { CLUSTER_CASES, startCluster, type Cluster } from "../support/cluster.ts";
import { ControllerProcess } from "../support/controller.ts";

interface Case {
  name: string;
  plural: string;
  make: (ts: (offsetMs?: number) => string) => KubeObject;
  expect: { kind: string; reason: string; severity?: string };
}

const labels = { app: "case" };
const podSpec = { containers: [{ name: "app", image: "app:1" }] };

const CASES: Case[] = [
  {
    name: "Pod unschedulable for longer than RULE_POD_PENDING_FOR",
    plural: "pods",
    make: (ts) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "big-pod", namespace: "default", creationTimestamp: ts(-60_000) },
      spec: podSpec,
      status: {
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message: "0/3 nodes are available: 3 Insufficient memory.",
            lastTransitionTime: ts(-60_000),
          },
        ],
      },
    }),
    expect: { kind: "Pod", reason: "Unschedulable" },
  },
  {
    name: "Pod evicted by its node",
    plural: "pods",
    make: (ts) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "evicted-pod", namespace: "default" },
      spec: { ...podSpec, nodeName: "pi-node-1" },
      status: { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory.", startTime: ts(-120_000) },
    }),
    expect: { kind: "Pod", reason: "Evicted" },
  },
  {
    name: "Node under memory pressure",
    plural: "nodes",
    make: (ts) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "pi-pressure" },
      spec: {},
      status: {
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: ts(-600_000) },
          { type: "MemoryPressure", status: "True", reason: "KubeletHasInsufficientMemory", lastTransitionTime: ts(-30_000) },
        ],
      },
    }),
    expect: { kind: "Node", reason: "MemoryPressure" },
  },
  {
    name: "Deployment past its progress deadline",
    plural: "deployments",
    make: (ts) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "stuck", namespace: "default", generation: 2 },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
      status: {
        observedGeneration: 2,
        replicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        updatedReplicas: 0,
        conditions: [
          { type: "Available", status: "True", lastTransitionTime: ts(-900_000) },
          {
            type: "Progressing",
            status: "False",
            reason: "ProgressDeadlineExceeded",
            message: 'ReplicaSet "stuck-2" has timed out progressing.',
            lastTransitionTime: ts(-60_000),
          },
        ],
      },
    }),
    expect: { kind: "Deployment", reason: "ProgressDeadlineExceeded", severity: "critical" },
  },
  {
    name: "StatefulSet short of ready replicas",
    plural: "statefulsets",
    make: () => ({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default", generation: 1 },
      spec: { replicas: 3, serviceName: "db", selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
      status: { observedGeneration: 1, replicas: 3, readyReplicas: 1, availableReplicas: 1 },
    }),
    expect: { kind: "StatefulSet", reason: "UnavailableReplica" },
  },
  {
    name: "DaemonSet with unavailable daemon pods",
    plural: "daemonsets",
    make: () => ({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default", generation: 1 },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 1,
        numberAvailable: 1,
        numberUnavailable: 2,
        numberMisscheduled: 0,
      },
    }),
    expect: { kind: "DaemonSet", reason: "UnavailableReplica" },
  },
];

for (const { cluster: kind, flavor } of CLUSTER_CASES) {
  describe(`more rules end to end (${kind}, ${flavor})`, () => {
    let cluster: Cluster;
    let ctl: ControllerProcess;
    beforeAll(async () => {
      cluster = await startCluster(kind);
      seedHealthyCluster(cluster.store, { nodes: 2, deployments: 1, replicasPerDeployment: 1 });
      await cluster.settle();
      ctl = await ControllerProcess.start(flavor, cluster.kubeconfig(), { LEADER_ELECTION: "false", ...cluster.env });
      await ctl.ready();
    });
    afterAll(async () => {
      await ctl?.stop();
      await cluster?.stop();
    });

    for (const c of CASES) {
      test(`${c.name}: fires, and resolves when the object is deleted`, async () => {
        const obj = cluster.store.create(c.make((ms = 0) => cluster.store.timestamp(ms)));
        const fired = await ctl.line({ kind: c.expect.kind, name: obj.metadata.name, reason: c.expect.reason, status: "firing" });
        if (c.expect.severity) expect(fired.severity).toBe(c.expect.severity);
        expect(fired.message.length).toBeGreaterThan(20);
        cluster.store.delete(c.plural, obj.metadata.namespace, obj.metadata.name);
        await ctl.line({ kind: c.expect.kind, name: obj.metadata.name, reason: c.expect.reason, status: "resolved" });
        await cluster.settle();
      });
    }
  });
}
