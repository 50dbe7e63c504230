// Load driver for the budget bench: runs the Kubernetes API simulator IN THIS PROCESS (so its CPU is
// not counted against the controller, which runs in another process) and applies the workloads on
// command. Protocol: one JSON command per stdin line, one JSON event per stdout line.
//   bun bench/load-driver.ts --dir D --nodes 100 --deployments 300 --replicas 10
//   → {"ev":"ready","kubeconfig":…,"pods":3000}
//   {"cmd":"steady","secs":60,"rate":50,"probeEveryMs":3000}  → {"ev":"probe",…}* {"ev":"steady-end",…}
//   {"cmd":"storm","secs":60,"reschedule":1000,"updates":10000} → {"ev":"storm-end",…}
//   {"cmd":"probe"} → {"ev":"probe",…}   {"cmd":"quit"}
import { startDemoCluster } from "../src/sim/demo-cluster.ts";
import { crashLoopPod, healPod, nodeNotReady, nodeName, replicaPod, runningPodStatus } from "../src/sim/kit.ts";
import { syncAfterPodChange } from "../src/sim/controllers.ts";
import type { SimStore } from "../src/sim/store.ts";
import type { KubeObject } from "../src/kube/types.ts";

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ at: Date.now(), ...o }) + "\n");

const nodes = Number(arg("nodes", "100"));
const cluster = await startDemoCluster(arg("dir", "/tmp/neuro-bench-sim"), {
  seed: {
    nodes,
    deployments: Number(arg("deployments", "300")),
    replicasPerDeployment: Number(arg("replicas", "10")),
    namespaces: ["default", "shop", "data"],
  },
});
const store: SimStore = cluster.sim.store;
const rv = () => Number(store.resourceVersion());

// One pre-existing crash-looping pod, so cold start has an anomaly to alert on.
const allPods = () => store.list("pods").filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === "ReplicaSet"));
const coldPod = allPods()[allPods().length - 1]!;
crashLoopPod(store, coldPod.metadata.namespace!, coldPod.metadata.name);
emit({
  ev: "ready",
  kubeconfig: cluster.kubeconfig,
  url: cluster.sim.url,
  pods: store.count("pods"),
  nodes: store.count("nodes"),
  // What the controller's informers cache (for memory per cached object on the cost curve).
  objects: ["pods", "nodes", "deployments", "replicasets", "services", "endpoints", "endpointslices"].reduce((a, r) => {
    try {
      return a + store.count(r as Parameters<SimStore["count"]>[0]);
    } catch {
      return a;
    }
  }, 0),
  coldPod: coldPod.metadata.name,
});

/** A harmless status update (what kubelets post all the time): one MODIFIED pod event, no anomaly. */
let tick = 0;
function touch(pods: KubeObject[]): void {
  const p = pods[tick++ % pods.length]!;
  try {
    store.mutate("pods", p.metadata.namespace, p.metadata.name, (o) => {
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), "bench/tick": String(tick) };
    });
  } catch {
    /* deleted meanwhile */
  }
}

/** Probe pods: one per deployment, spread over nodes, never reused (cleaned entries dedupe for 5 min). */
let probeSeq = 0;
function probe(): void {
  const deps = store.list("deployments");
  const dep = deps[(probeSeq * 7) % deps.length]!;
  probeSeq++;
  const pods = allPods().filter(
    (p) =>
      p.metadata.namespace === dep.metadata.namespace && p.metadata.labels?.app === dep.metadata.name && !p.metadata.annotations?.["bench/probe"],
  );
  const pod = pods[probeSeq % Math.max(1, pods.length)];
  if (!pod) return;
  const { namespace, name } = pod.metadata as { namespace: string; name: string };
  const t0 = Date.now();
  store.mutate("pods", namespace, name, (o) => void (o.metadata.annotations = { ...(o.metadata.annotations ?? {}), "bench/probe": String(t0) }));
  crashLoopPod(store, namespace, name);
  emit({ ev: "probe", t0, namespace, name });
  setTimeout(() => {
    try {
      healPod(store, namespace, name);
    } catch {
      /* gone */
    }
  }, 3000);
}

async function steady(secs: number, rate: number, probeEveryMs: number): Promise<void> {
  const rv0 = rv();
  const t0 = Date.now();
  emit({ ev: "steady-start", rv: rv0 });
  const pods = allPods();
  let sent = 0;
  let nextProbe = probeEveryMs > 0 ? t0 + probeEveryMs : Infinity; // 0: no probes
  while (Date.now() - t0 < secs * 1000) {
    // Pace on wall time so a busy moment does not lower the average rate.
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    const before = rv();
    if (Date.now() >= nextProbe) {
      probe();
      nextProbe += probeEveryMs;
      sent += rv() - before; // the probe's own events count toward the rate
    }
    while (sent < due) touch(pods), sent++;
    await Bun.sleep(20);
  }
  emit({ ev: "steady-end", events: rv() - rv0, secs: (Date.now() - t0) / 1000, probes: probeSeq });
}

/**
 * Node failure, one root cause: node-0 has been unreachable for 60 s when the storm starts (status
 * Unknown, unreachable taints) and its pods have been Ready=False for 150 s (the node lifecycle
 * controller's doing; they stay on the dead node, as on a real cluster). Within `secs`, 1,000 pods are
 * rescheduled — replacements for node-0's pods, then deleted/recreated pods elsewhere (Pending →
 * Running) as the workloads rebalance — plus `updates` status updates. Timestamps are backdated so
 * the duration rules (NodeNotReady 40 s, NotReady 2 m) fire inside the window.
 */
async function storm(secs: number, reschedule: number, updates: number): Promise<void> {
  const rv0 = rv();
  const t0 = Date.now();
  const failed = nodeName(0);
  emit({ ev: "storm-start", rv: rv0, failedNode: failed });
  const n = nodeNotReady(store, failed);
  store.mutate("nodes", undefined, failed, (o) => {
    for (const c of o.status?.conditions ?? []) c.lastTransitionTime = store.timestamp(-60_000);
  });
  void n;
  const pods = allPods();
  const stranded = pods.filter((p) => p.spec?.nodeName === failed);
  for (const p of stranded) {
    store.mutate("pods", p.metadata.namespace, p.metadata.name, (o) => {
      for (const c of o.status?.conditions ?? []) {
        if (c.type !== "Ready" && c.type !== "ContainersReady") continue;
        Object.assign(c, { status: "False", reason: "NodeNotReady", message: "Node is not ready", lastTransitionTime: store.timestamp(-150_000) });
      }
      for (const cs of o.status?.containerStatuses ?? []) cs.ready = false;
    });
  }
  const others = pods.filter((p) => p.spec?.nodeName !== failed);
  const victims: [KubeObject, boolean][] = [
    ...stranded.map((p) => [p, true] as [KubeObject, boolean]),
    ...others.slice(0, Math.max(0, reschedule - stranded.length)).map((p) => [p, false] as [KubeObject, boolean]),
  ];
  const survivors = others.filter((p) => !victims.some(([v]) => v === p));
  let moved = 0;
  let updated = 0;
  while (Date.now() - t0 < secs * 1000 || moved < victims.length || updated < updates) {
    const frac = Math.min(1, (Date.now() - t0) / (secs * 1000));
    while (moved < Math.floor(frac * victims.length)) {
      const [v, keep] = victims[moved++]!;
      reschedulePod(v, moved, keep);
    }
    while (updated < Math.floor(frac * updates)) touch(survivors), updated++;
    await Bun.sleep(20);
  }
  emit({ ev: "storm-end", events: rv() - rv0, secs: (Date.now() - t0) / 1000, rescheduled: moved, updates: updated, stranded: stranded.length });
}

/** A replacement Pending → Running on a healthy node; the old pod is deleted unless it is stranded on the dead node. */
function reschedulePod(victim: KubeObject, seq: number, keepOld: boolean): void {
  const ns = victim.metadata.namespace!;
  const rsRef = victim.metadata.ownerReferences!.find((o) => o.kind === "ReplicaSet")!;
  const rs = store.get("replicasets", ns, rsRef.name);
  if (!store.get("pods", ns, victim.metadata.name) || !rs) return;
  if (!keepOld) store.delete("pods", ns, victim.metadata.name);
  const node = 1 + (seq % (nodes - 1));
  const name = `${victim.metadata.name}-r${seq}`;
  const pod = replicaPod(store, rs, name, node, 100_000 + seq);
  const running = pod.status;
  pod.status = {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: store.timestamp() }],
    qosClass: "Burstable",
  };
  store.create(pod);
  const up = store.patchStatus("pods", ns, name, () => running ?? runningPodStatus(store, pod.spec.containers, node, seq, name));
  syncAfterPodChange(store, up);
}

for await (const line of console) {
  if (!line.trim()) continue;
  const c = JSON.parse(line) as Record<string, any>;
  if (c.cmd === "steady") await steady(c.secs, c.rate, c.probeEveryMs);
  else if (c.cmd === "storm") await storm(c.secs, c.reschedule, c.updates);
  else if (c.cmd === "probe") probe();
  else if (c.cmd === "quit") break;
}
await cluster.stop();
emit({ ev: "bye" });
process.exit(0);
