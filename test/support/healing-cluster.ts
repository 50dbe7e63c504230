// A small cluster for healing tests on the HTTPS simulator with dead-node semantics (src/sim/node-lifecycle.ts),
// a shared fake clock (the store's timestamps and the engine's decisions read the same time) and a
// HealingEngine recording into a real ActionJournal (bun:sqlite in memory).
import { Database } from "bun:sqlite";
import { ActionJournal } from "../../src/actions/journal.ts";
import { HealingEngine } from "../../src/healing/engine.ts";
import type { HealingSettings } from "../../src/healing/settings.ts";
import { HealingPauseStore, type PauseState } from "../../src/healing/pause.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { silentLogger } from "../../src/log.ts";
import type { ActionRecord } from "../../src/model/action.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import type { VersionInfo } from "../../src/sim/node-lifecycle.ts";
import { nodeObject } from "../../src/sim/scenarios.ts";
import { SimStore } from "../../src/sim/store.ts";
import { ActionHistory } from "../../src/store/action-history.ts";

export const S = 1000;
export const TEST_SETTINGS: HealingSettings = {
  mode: "on",
  intervalMs: 100,
  notReadyAfterMs: 60 * S,
  drainTimeoutMs: 120 * S,
  forceAfterMs: 300 * S,
  uncordonAfterMs: 30 * S,
  drainUnmanaged: false,
  minHealthyPercent: 51,
  controlPlane: false,
  maxConcurrent: 1,
  cooldownMs: 600 * S,
};

export interface HealingCluster {
  sim: Simulator;
  store: SimStore;
  client: KubeClient;
  clock: { now: number };
  advance(ms: number): void;
  engine(
    overrides?: Partial<HealingSettings>,
    opts?: { journal?: ActionJournal; stillLeading?: () => boolean; pause?: () => PauseState | undefined },
  ): {
    engine: HealingEngine;
    journal: ActionJournal;
    records: ActionRecord[];
  };
  node(name: string): KubeObject;
  pod(ns: string, name: string): KubeObject | undefined;
  /** resourceVersions of every node and pod: what healing may write (its own ConfigMap is not a workload write). */
  workloadVersions(): string[];
  stop(): Promise<void>;
}

export const V1_27: VersionInfo = { major: "1", minor: "27", gitVersion: "v1.27.9" };

export function newJournal(db = new Database(":memory:")): { journal: ActionJournal; records: ActionRecord[] } {
  const journal = new ActionJournal(new ActionHistory(db), silentLogger);
  const records: ActionRecord[] = [];
  journal.listen((r) => void records.push(r));
  return { journal, records };
}

export async function startHealingCluster(nodes = 5, version?: VersionInfo): Promise<HealingCluster> {
  const clock = { now: Date.parse("2026-03-01T10:00:00Z") };
  const store = new SimStore({ now: () => clock.now });
  for (let i = 0; i < nodes; i++) store.create(nodeObject(store, i));
  for (const name of ["default", "kube-system"]) store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  const sim = await startSimulator({ store, nodeLifecycle: true, version });
  const client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
  const shared = new HealingPauseStore(client, "kube-system", "neurocontroller-healing");
  return {
    sim,
    store,
    client,
    clock,
    advance: (ms) => {
      clock.now += ms;
    },
    engine(overrides = {}, opts = {}) {
      const j = opts.journal ? { journal: opts.journal, records: [] as ActionRecord[] } : newJournal();
      if (opts.journal) opts.journal.listen((r) => void j.records.push(r));
      const engine = new HealingEngine({
        client,
        record: (r) => j.journal.record(r),
        settings: { ...TEST_SETTINGS, ...overrides },
        clusterId: "test",
        logger: silentLogger,
        clock: () => clock.now,
        // The real shared document in the simulator (ConfigMap kube-system/neurocontroller-healing), pause overridable.
        readShared: async () => {
          const s = await shared.readShared();
          return opts.pause ? { ...s, pause: opts.pause() } : s;
        },
        saveTold: (ids) => shared.addTold(ids, clock.now),
        stillLeading: opts.stillLeading ?? (() => true),
      });
      return { engine, ...j };
    },
    node: (name) => store.get("nodes", undefined, name)!,
    pod: (ns, name) => store.get("pods", ns, name),
    workloadVersions: () => [...store.list("nodes"), ...store.list("pods")].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`),
    stop: () => sim.stop(),
  };
}

const ready = (now: string) => [
  { type: "Ready", status: "True", lastTransitionTime: now },
  { type: "ContainersReady", status: "True", lastTransitionTime: now },
];

/** A workload (ReplicaSet, StatefulSet or DaemonSet) with `pods` Running pods on `node`. */
export function workload(store: SimStore, kind: "ReplicaSet" | "StatefulSet" | "DaemonSet", name: string, node: string, pods: number): KubeObject[] {
  const labels = { app: name };
  const owner = store.create({
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: "default" },
    spec: {
      replicas: pods,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    },
  });
  const out: KubeObject[] = [];
  for (let i = 0; i < pods; i++) {
    out.push(
      store.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: kind === "StatefulSet" ? `${name}-${i}` : `${name}-${i}x`,
          namespace: "default",
          labels,
          ownerReferences: [{ apiVersion: "apps/v1", kind, name, uid: owner.metadata.uid!, controller: true }],
        },
        spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
        status: { phase: "Running", conditions: ready(store.timestamp()) },
      }),
    );
  }
  return out;
}

export function barePod(store: SimStore, name: string, node: string): KubeObject {
  return store.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Running", conditions: ready(store.timestamp()) },
  });
}

export function pdb(store: SimStore, name: string, app: string, minAvailable: number): KubeObject {
  return store.create({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: "default" },
    spec: { minAvailable, selector: { matchLabels: { app } } },
  });
}
