// Throughput ceiling on one core: watch lines (pod MODIFIED events as the API server streams them)
// through the controller's own path — LineSplitter → parseWatchLine → Informer cache → Evaluator
// (every rule of the kind) → Collector → Cleaner — against bare JSON.parse of the same lines.
//   taskset -c 0 bun bench/ceiling.ts [--events 100000]   → one JSON line
import { Config } from "../src/config/load.ts";
import { Caches, Evaluator } from "../src/controller/evaluator.ts";
import { Cleaner } from "../src/diagnosis/cleaner.ts";
import { Collector } from "../src/diagnosis/collector.ts";
import { Informer } from "../src/kube/informer.ts";
import { LineSplitter, parseWatchLine } from "../src/kube/lines.ts";
import type { KubeObject, WatchEvent } from "../src/kube/types.ts";
import { SimStore } from "../src/sim/store.ts";
import { crashLoopPod, healPod, seedHealthyCluster } from "../src/sim/kit.ts";
import { PLUGINS } from "../src/watchers/registry.ts";
import { ruleSettings } from "../src/watchers/settings.ts";

const argv = process.argv.slice(2);
const N = Number(argv.includes("--events") ? argv[argv.indexOf("--events") + 1] : 100_000);

// A 3,000-pod cluster; every 50th event flips a pod into CrashLoopBackOff or back, so rules fire and clear.
const store = new SimStore();
seedHealthyCluster(store, { nodes: 100, deployments: 300, replicasPerDeployment: 10 });
const pods = store.list("pods");
const initial = pods.map((p) => JSON.stringify({ type: "ADDED", object: p }));
const lines: string[] = [];
for (let i = 0; lines.length < N; i++) {
  const p = pods[i % pods.length]!;
  const [ns, name] = [p.metadata.namespace!, p.metadata.name];
  let obj: KubeObject;
  if (i % 50 === 0) obj = (i / 50) % 2 ? healPod(store, ns, name) : crashLoopPod(store, ns, name);
  else obj = store.mutate("pods", ns, name, (o) => void (o.metadata.annotations = { ...(o.metadata.annotations ?? {}), "bench/tick": String(i) }));
  lines.push(JSON.stringify({ type: "MODIFIED", object: obj }));
}
const bytes = lines.reduce((a, l) => a + l.length + 1, 0);
// The stream arrives in chunks split anywhere: 64 KiB of text per chunk.
const text = lines.join("\n") + "\n";
const chunks: string[] = [];
for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));

function bare(): number {
  const t0 = performance.now();
  let n = 0;
  for (const l of lines) if (JSON.parse(l)) n++;
  return n / ((performance.now() - t0) / 1000);
}

function pipeline(): { rate: number; anomalies: number } {
  const config = Config.load({ env: {} });
  const cleaner = new Cleaner({ rawRetentionMs: 600_000, cleanedRetentionMs: 300_000, rawMax: 10_000 });
  let anomalies = 0;
  const collector = new Collector(cleaner, (t) => void (t.type === "firing" && anomalies++));
  const caches = new Caches();
  const evaluator = new Evaluator(PLUGINS, ruleSettings(config), caches, collector);
  const cache = new Map<string, KubeObject>();
  const informer = new Informer(
    null as never,
    { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
    {
      cache,
      onEvent: (type, obj) => evaluator.onEvent("Pod", type as "ADDED", obj, Date.now()),
    },
  );
  caches.register("Pod", informer.cache);
  const feed = (ev: WatchEvent | null) => ev && (informer as unknown as { onWatchEvent(e: WatchEvent): void }).onWatchEvent(ev);
  for (const l of initial) feed(parseWatchLine(l)); // the initial list, not timed
  const splitter = new LineSplitter();
  const t0 = performance.now();
  let n = 0;
  let lastClean = t0;
  for (const c of chunks) {
    for (const l of splitter.push(c)) feed(parseWatchLine(l)), n++;
    if (performance.now() - lastClean > 5000) cleaner.clean(Date.now()), (lastClean = performance.now());
  }
  return { rate: n / ((performance.now() - t0) / 1000), anomalies };
}

// Warm up the JIT on both paths, then take the best of 3.
bare();
pipeline();
let b = 0;
let p = { rate: 0, anomalies: 0 };
for (let i = 0; i < 3; i++) {
  b = Math.max(b, bare());
  const r = pipeline();
  if (r.rate > p.rate) p = r;
}
console.log(
  JSON.stringify({
    events: N,
    avgLineBytes: Math.round(bytes / N),
    bareJsonParsePerSec: Math.round(b),
    pipelinePerSec: Math.round(p.rate),
    ratio: b / p.rate,
    anomaliesFired: p.anomalies,
  }),
);
