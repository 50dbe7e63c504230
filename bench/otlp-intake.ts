// (f) OTLP intake: how many spans per second the controller ingests over OTLP/HTTP (POST /v1/traces)
// in the budget cgroup. The compiled controller runs inside the cgroup against a small simulated
// cluster (the simulator runs in this process, outside the cgroup); a sender outside the cgroup replays
// one real export request — captured from the OpenTelemetry SDK's protobuf exporter (512 spans: server
// spans with one child each, so half are entry spans) — with a few requests in flight, as fast as the
// controller answers. spansPerSec counts every span the intake decoded (recorded + other) from its
// /metrics counters, over the timed phase only. A figure to beat later, not a budget.
//   bun bench/otlp-intake.ts [--binary dist/neurocontroller-linux-x64] [--secs 5] [--concurrency 4] [--cgroup]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator } from "../src/sim/index.ts";
import { seedHealthyCluster } from "../src/sim/kit.ts";
import { sendOtlpTraffic } from "../testkit/otlp-load.ts";
import { freePort } from "../testkit/ports.ts";
import { waitFor } from "../testkit/wait.ts";

export interface OtlpIntakeResult {
  secs: number;
  concurrency: number;
  spansPerRequest: number;
  requests: number;
  failedRequests: number;
  spansPerSec: number;
  entrySpansPerSec: number;
  requestBytes: number;
  retainedBuckets: number;
  controllerRssMiB: number;
}

/** One real SDK export request body (protobuf), captured by a throwaway local receiver. */
async function captureSdkRequest(): Promise<Uint8Array<ArrayBuffer>> {
  let body: Uint8Array<ArrayBuffer> | undefined;
  const srv = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      body ??= new Uint8Array(await req.arrayBuffer());
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  try {
    await sendOtlpTraffic({
      url: `http://127.0.0.1:${srv.port}/v1/traces`,
      batchSize: 512,
      services: [
        {
          service: "checkout",
          namespace: "shop",
          deployment: "checkout",
          requests: 256,
          latencyMs: (i) => 5 + (i % 50),
          errorRatio: 0.02,
          childSpans: 1,
        },
      ],
    });
  } finally {
    await srv.stop(true);
  }
  if (!body) throw new Error("the SDK exporter sent nothing");
  return body;
}

async function metricSum(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
}

export async function runOtlpIntake(opts: {
  binary: string;
  secs: number;
  concurrency: number;
  wrap?: (argv: string[]) => string[];
}): Promise<OtlpIntakeResult> {
  const wrap = opts.wrap ?? ((a: string[]) => a);
  const body = await captureSdkRequest();
  const sim = await startSimulator({ tls: true });
  seedHealthyCluster(sim.store, { nodes: 3, deployments: 5, replicasPerDeployment: 2 });
  const dir = mkdtempSync(join(tmpdir(), "neuro-bench-otlp-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn(wrap([opts.binary, "controller", "--kubeconfig", sim.kubeconfig()]), {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/nonexistent",
      NEURO_STATE_DIR: join(dir, "state"),
      NEURO_LOG_DIR: join(dir, "log"),
      NEURO_HTTP_ADDR: `127.0.0.1:${port}`,
      LEADER_ELECTION: "false",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 60_000,
      message: "controller ready",
    });
    const post = () =>
      fetch(`${base}/v1/traces`, { method: "POST", body, headers: { "content-type": "application/x-protobuf" } }).then(async (r) => {
        await r.arrayBuffer();
        return r.ok;
      });
    // Warm-up (JIT, first allocations), not timed.
    for (let i = 0; i < 20; i++) await post();
    const spans0 = await metricSum(base, "neurocontroller_otlp_spans_total");
    const entry0 = await metricSum(base, 'neurocontroller_otlp_spans_total\\{outcome="recorded"\\}');
    let requests = 0;
    let failed = 0;
    const t0 = performance.now();
    const until = t0 + opts.secs * 1000;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (performance.now() < until) {
          requests++;
          if (!(await post().catch(() => false))) failed++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const spans = (await metricSum(base, "neurocontroller_otlp_spans_total")) - spans0;
    const entry = (await metricSum(base, 'neurocontroller_otlp_spans_total\\{outcome="recorded"\\}')) - entry0;
    const rss =
      Number(
        /^VmRSS:\s+(\d+)/m.exec(
          await Bun.file(`/proc/${proc.pid}/status`)
            .text()
            .catch(() => ""),
        )?.[1] ?? 0,
      ) / 1024;
    return {
      secs: elapsed,
      concurrency: opts.concurrency,
      spansPerRequest: requests ? Math.round(spans / Math.max(1, requests - failed)) : 0,
      requests,
      failedRequests: failed,
      spansPerSec: spans / elapsed,
      entrySpansPerSec: entry / elapsed,
      requestBytes: body.byteLength,
      retainedBuckets: await metricSum(base, "neurocontroller_otlp_red_retained_buckets"),
      controllerRssMiB: rss,
    };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    await sim.stop();
  }
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
  const binary = arg("binary", join(import.meta.dir, "..", "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`));
  let wrap: ((a: string[]) => string[]) | undefined;
  let cg: { wrap: (a: string[]) => string[]; remove(): void; memoryPeak(): number } | undefined;
  if (argv.includes("--cgroup")) {
    const { createCgroup } = await import("./lib/cgroup.ts");
    cg = createCgroup(`neuro-bench-otlp-${process.pid}`, 256 << 20);
    wrap = cg.wrap;
  }
  try {
    const r = await runOtlpIntake({ binary, secs: Number(arg("secs", "5")), concurrency: Number(arg("concurrency", "4")), wrap });
    console.log(JSON.stringify({ ...r, cgroupMemoryPeakMiB: cg ? cg.memoryPeak() / 2 ** 20 : undefined }));
  } finally {
    await Bun.sleep(200);
    cg?.remove();
  }
}
