// What the periodic evaluation tick costs on the bench cluster (100 nodes, 3,000 pods, 300 of each
// workload object) versus a watch event, in one process, with the controller's own Evaluator:
//   bun bench/evaluate-cost.ts [--ticks 40]   → one JSON line
// fullPassMs: every cached object re-evaluated (what each NEURO_EVALUATE_INTERVAL tick did before
// rules reported their time dependence); dueTickMs: the tick as it is now (objects whose duration or
// window is due); perEventUs: one pod MODIFIED through the rules and the collector.
import { Config } from "../src/config/load.ts";
import { Caches, Evaluator } from "../src/controller/evaluator.ts";
import { Cleaner } from "../src/diagnosis/cleaner.ts";
import { Collector } from "../src/diagnosis/collector.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { objectKey } from "../src/kube/types.ts";
import { crashLoopPod, seedHealthyCluster } from "../src/sim/kit.ts";
import { SimStore } from "../src/sim/store.ts";
import { PLUGINS } from "../src/watchers/registry.ts";
import { ruleSettings } from "../src/watchers/settings.ts";

const argv = process.argv.slice(2);
const TICKS = Number(argv.includes("--ticks") ? argv[argv.indexOf("--ticks") + 1] : 40);

const store = new SimStore();
seedHealthyCluster(store, { nodes: 100, deployments: 300, replicasPerDeployment: 10, namespaces: ["default", "shop", "data"] });
const pods = store.list("pods");
// A few anomalies, as in the bench: crash-looping pods.
for (const p of pods.slice(0, 5)) crashLoopPod(store, p.metadata.namespace!, p.metadata.name);

const config = Config.load({ env: {} });
const cleaner = new Cleaner({ rawRetentionMs: 600_000, cleanedRetentionMs: 300_000, rawMax: 10_000 });
const collector = new Collector(cleaner);
const caches = new Caches();
const kinds: [string, string][] = [
  ["Node", "nodes"],
  ["Pod", "pods"],
  ["ReplicaSet", "replicasets"],
  ["Deployment", "deployments"],
  ["Service", "services"],
  ["EndpointSlice", "endpointslices"],
  ["Event", "events"],
];
let objects = 0;
for (const [kind, plural] of kinds) {
  const cache = new Map<string, KubeObject>();
  for (const o of store.list(plural)) cache.set(objectKey(o), o), objects++;
  caches.register(kind, cache);
}
const evaluator = new Evaluator(PLUGINS, ruleSettings(config), caches, collector);
let now = Date.now();
for (const [kind, cache] of caches.byKind) for (const o of cache.values()) evaluator.onEvent(kind, "ADDED", o, now);

function time(fn: () => void, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t0) / n;
}
// Warm the JIT on every path first.
time(() => evaluator.evaluateAll((now += 5000)), 5);
time(() => evaluator.evaluateDue((now += 5000)), 5);
const fullPassMs = time(() => evaluator.evaluateAll((now += 5000)), TICKS);
const before = evaluator.evaluations;
const dueTickMs = time(() => evaluator.evaluateDue((now += 5000)), TICKS);
const dueEvaluationsPerTick = (evaluator.evaluations - before) / TICKS;
const podCache = caches.byKind.get("Pod")!;
const sample = [...podCache.values()].slice(100, 1100);
let i = 0;
const perEventUs =
  1000 *
  time(() => {
    const p = sample[i++ % sample.length]!;
    evaluator.onEvent("Pod", "MODIFIED", { ...p, metadata: { ...p.metadata, resourceVersion: String(i) } }, (now += 20));
  }, 20_000);
console.log(
  JSON.stringify({
    objects,
    fullPassMs: +fullPassMs.toFixed(2),
    dueTickMs: +dueTickMs.toFixed(3),
    dueEvaluationsPerTick,
    waitingForTick: evaluator.dueCount,
    perEventUs: +perEventUs.toFixed(1),
    // At 50 ev/s with the default 5 s tick, in millicores:
    cpuAt50evsFullPassM: +((fullPassMs / 5000) * 1000 + (50 * perEventUs) / 1000).toFixed(2),
    cpuAt50evsDueTickM: +((dueTickMs / 5000) * 1000 + (50 * perEventUs) / 1000).toFixed(2),
  }),
);
