// Where the watch path's time goes, stage by stage, on the ceiling's lines (one core, in-process):
// split only → split + JSON.parse → split + parseWatchLine (JSON.parse + zod checks) → the informer's cache
// update on top. Each stage is the best of 5 passes; the ratio to bare JSON.parse is printed per stage.
//   taskset -c 0 bun bench/watch-stages.ts [--events 20000]   → a table, then one JSON line
import { Informer } from "../src/kube/informer.ts";
import { LineSplitter, parseWatchLine } from "../src/kube/lines.ts";
import type { KubeObject, WatchEvent } from "../src/kube/types.ts";
import { seedHealthyCluster } from "../src/sim/kit.ts";
import { SimStore } from "../src/sim/store.ts";

const argv = process.argv.slice(2);
const N = Number(argv.includes("--events") ? argv[argv.indexOf("--events") + 1] : 20_000);
const store = new SimStore();
seedHealthyCluster(store, { nodes: 100, deployments: 300, replicasPerDeployment: 10 });
const pods = store.list("pods");
const lines: string[] = [];
for (let i = 0; lines.length < N; i++) {
  const p = pods[i % pods.length]!;
  const obj = store.mutate("pods", p.metadata.namespace!, p.metadata.name, (o) => void (o.metadata.annotations = { "bench/tick": String(i) }));
  lines.push(JSON.stringify({ type: "MODIFIED", object: obj }));
}
const text = `${lines.join("\n")}\n`;
const chunks: string[] = [];
for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
const bytes = new TextEncoder().encode(text);
const byteChunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += 65536) byteChunks.push(bytes.subarray(i, i + 65536));

const best = (f: () => void) => {
  let b = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return (N / b) * 1000;
};
const informer = new Informer(
  null as never,
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  { cache: new Map(), onEvent: () => {} },
);
const feed = (ev: WatchEvent | null) => ev && (informer as unknown as { onWatchEvent(e: WatchEvent): void }).onWatchEvent(ev);
const split = () => {
  const s = new LineSplitter();
  for (const c of chunks) s.push(c);
};
const stages: [string, () => void][] = [
  [
    "bare JSON.parse of each line",
    () => {
      for (const l of lines) JSON.parse(l);
    },
  ],
  [
    "decode (TextDecoder, stream) + split",
    () => {
      const d = new TextDecoder();
      const s = new LineSplitter();
      for (const c of byteChunks) s.push(d.decode(c, { stream: true }));
    },
  ],
  ["split only", split],
  [
    "split + JSON.parse",
    () => {
      const s = new LineSplitter();
      for (const c of chunks) for (const l of s.push(c)) JSON.parse(l);
    },
  ],
  [
    "split + parseWatchLine (JSON + zod checks)",
    () => {
      const s = new LineSplitter();
      for (const c of chunks) for (const l of s.push(c)) parseWatchLine(l);
    },
  ],
  [
    "… + informer cache update",
    () => {
      const s = new LineSplitter();
      for (const c of chunks) for (const l of s.push(c)) feed(parseWatchLine(l));
    },
  ],
];
for (const [, f] of stages) f(); // warm-up
const out = stages.map(([name, f]) => ({ name, perSec: Math.round(best(f)) }));
const bare = out[0]!.perSec;
for (const s of out) console.log(`${s.name.padEnd(45)} ${String(s.perSec).padStart(9)} ev/s  ${(bare / s.perSec).toFixed(2)}× bare`);
console.log(JSON.stringify({ events: N, avgLineBytes: Math.round(bytes.length / N), stages: out }));
void (null as unknown as KubeObject);
