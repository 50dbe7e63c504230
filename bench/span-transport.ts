// (d) Span transport: the agent's SpanPublisher (agent/spans.ts) publishes syscall spans through
// mosquitto at QoS 1 at increasing rates; the controller's TraceBridge (src/trace/bridge.ts) receives
// them. Publisher and bridge run as two processes, both inside the budget cgroup when one is given
// (on a node they share the slice). Reports, per rate step, spans sent/received/lost.
//   bun bench/span-transport.ts [--steps 2500,5000,10000,20000,40000] [--secs 3] [--cgroup]
import mqtt from "mqtt";
import type { SyscallSpan } from "../src/trace/types.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const role = arg("role", "main");
const TOPIC = "bench/spans/node-a";
const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ at: Date.now(), ...o }) + "\n");

function span(i: number): SyscallSpan {
  const hex = (n: number, w: number) => (n + 1).toString(16).padStart(w, "0").slice(-w);
  return {
    traceId: `4bf92f3577b34da6a3ce929d${hex(i >> 4, 8)}`,
    parentId: `00f067aa${hex(i, 8)}`,
    service: "checkout",
    pid: 4242,
    threads: 1,
    syscall: i % 2 ? "read" : "write",
    nr: i % 2 ? 0 : 1,
    count: 120,
    totalNs: 480_000,
    maxNs: 9_000,
    startUnixNano: "1795935426003000000",
    endUnixNano: "1795935426004000000",
    slow: [],
  };
}

if (role === "sink" && argv.includes("--noop")) {
  // A/B only: the bare mqtt.js receive path (no decode, no check, no aggregation), same counters.
  const c = await mqtt.connectAsync(arg("url", ""), { username: arg("user", ""), password: arg("pass", ""), protocolVersion: 5 });
  let spans = 0,
    batches = 0,
    lastAt = 0;
  c.on("message", (_t, p) => {
    spans += 500;
    batches++;
    lastAt = Date.now();
    void p;
  });
  await c.subscribeAsync("bench/spans/+", { qos: 1 });
  out({ ev: "sink-ready" });
  const cpuMs = () => (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  setInterval(() => out({ ev: "sink", spans, batches, gaps: 0, lastAt, rss: process.memoryUsage().rss, cpuMs: cpuMs() }), 100);
} else if (role === "sink") {
  const { TraceBridge } = await import("../src/trace/bridge.ts");
  const bridge = new TraceBridge({
    mqttUrl: arg("url", ""),
    mqttUsername: arg("user", ""),
    mqttPassword: arg("pass", ""),
    prefix: "bench",
    exportIntervalMs: 1000,
    maxTraces: 5000,
    alertThresholdNs: 1e9,
  });
  let spans = 0;
  let batches = 0;
  let lastSeq = 0;
  let gaps = 0;
  let lastAt = 0;
  const ingest = bridge.aggregator.ingest.bind(bridge.aggregator);
  bridge.aggregator.ingest = (b, now) => {
    spans += b.spans.length;
    batches++;
    if (lastSeq && b.seq !== lastSeq + 1) gaps++;
    lastSeq = b.seq;
    lastAt = Date.now();
    return ingest(b, now);
  };
  bridge.client.on("connect", () => out({ ev: "sink-ready" }));
  process.on("SIGTERM", () => process.exit(0)); // an orderly exit writes the --cpu-prof profile
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  setInterval(() => out({ ev: "sink", spans, batches, gaps, lastAt, rss: process.memoryUsage().rss, cpuMs: cpuMs() }), 100);
} else if (role === "pub") {
  const { SpanPublisher } = await import("../agent/spans.ts");
  const client = await mqtt.connectAsync(arg("url", ""), { username: arg("user", ""), password: arg("pass", "") });
  const pub = new SpanPublisher(client as never, {
    topic: TOPIC,
    node: "node-a",
    arch: "x64",
    maxQueued: 500,
    // Defaults of the agent unless the A/B flags say otherwise.
    maxSpansPerBatch: argv.includes("--batch") ? Number(arg("batch", "")) : undefined,
    maxInFlight: argv.includes("--inflight") ? Number(arg("inflight", "")) : undefined,
    kernelDrops: () => ({ ringbuf: 0, aggFull: 0, startFull: 0, poolFull: 0 }),
    orphanEvents: () => 0,
  });
  const secs = Number(arg("secs", "3"));
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const stdin = console[Symbol.asyncIterator]();
  let sent = 0;
  let n = 0;
  for (const rate of arg("steps", "10000").split(",").map(Number)) {
    const total = Math.round(rate * secs);
    const sent0 = sent;
    out({ ev: "step-start", rate, cpuMs: cpuMs() });
    const t0 = performance.now();
    // Flush every 100 ms, as an agent with a short AGENT_FLUSH_INTERVAL would.
    for (let tick = 1; sent - sent0 < total; tick++) {
      const due = Math.min(total, Math.floor((rate * (performance.now() - t0)) / 1000)) - (sent - sent0);
      if (due > 0) {
        pub.enqueue(Array.from({ length: due }, () => span(n++)));
        sent += due;
      }
      if (sent - sent0 < total) await Bun.sleep(Math.max(0, t0 + tick * 100 - performance.now()));
    }
    out({
      ev: "step",
      rate,
      sent,
      stepSent: sent - sent0,
      pubSecs: (performance.now() - t0) / 1000,
      queued: pub.queued,
      ...pub.stats,
      rss: process.memoryUsage().rss,
    });
    await stdin.next(); // the main process says when the sink has caught up
  }
  await client.endAsync();
  out({ ev: "done", cpuMs: cpuMs() });
  process.exit(0);
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  let rest = "";
  for await (const c of stream) {
    const parts = (rest + new TextDecoder().decode(c)).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) yield JSON.parse(p) as Record<string, any>;
  }
}

/**
 * lost: published − received once the sink stopped making progress (cumulative; QoS 1 means a slow
 * sink shows as backlog, not loss, until the broker's queue overflows). achievedRate: the step's spans
 * / (step start → the sink has them all), i.e. end to end. behindAtEnd: spans still in transit when
 * the publisher finished the step.
 */
export interface SpanStep {
  rate: number;
  sent: number;
  received: number;
  lost: number;
  droppedBatches: number;
  achievedRate: number;
  achievedRatePolled: number;
  behindAtEnd: number;
  gaps: number;
  /** CPU time (user + system) the step cost each side, in µs per span (where a faster transport must save). */
  sinkCpuUsPerSpan: number;
  pubCpuUsPerSpan: number;
}

/** Runs sink + publisher (optionally wrapped into a cgroup) and returns one row per rate step. */
export async function runSpanTransport(opts: {
  steps: number[];
  secs: number;
  wrap?: (argv: string[]) => string[];
  /** Extra arguments for the roles (A/B of the publisher's batch size and window: --batch N, --inflight N). */
  pubArgs?: string[];
  /** Profile both sides (bun --cpu-prof): a .cpuprofile per process in this directory. */
  cpuProfDir?: string;
}): Promise<{ steps: SpanStep[]; maxLossless: number; sinkRssMiB: number; pubRssMiB: number }> {
  const { TestMosquitto } = await import("../testkit/mosquitto.ts");
  const broker = await TestMosquitto.start();
  const wrap = opts.wrap ?? ((a: string[]) => a);
  const common = ["--url", broker.url, "--user", broker.username, "--pass", broker.password, ...(opts.pubArgs ?? [])];
  const bun = [process.execPath, ...(opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [])];
  const sink = Bun.spawn(wrap([...bun, import.meta.path, "--role", "sink", ...common]), { stdout: "pipe", stderr: "inherit" });
  let received = 0;
  let gaps = 0;
  let sinkRss = 0;
  let sinkCpu = 0;
  let sinkLastAt = 0;
  let sinkReady: () => void = () => {};
  const ready = new Promise<void>((r) => (sinkReady = r));
  void (async () => {
    for await (const e of lines(sink.stdout as ReadableStream<Uint8Array>)) {
      if (e.ev === "sink-ready") sinkReady();
      if (e.ev === "sink") (received = e.spans), (gaps = e.gaps), (sinkRss = Math.max(sinkRss, e.rss)), (sinkCpu = e.cpuMs), (sinkLastAt = e.lastAt);
    }
  })();
  await Promise.race([ready, Bun.sleep(10_000)]);
  await Bun.sleep(300); // subscription acknowledged
  const pub = Bun.spawn(wrap([...bun, import.meta.path, "--role", "pub", "--steps", opts.steps.join(","), "--secs", String(opts.secs), ...common]), {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const steps: SpanStep[] = [];
  let pubRss = 0;
  let stepStart = 0;
  let stepStartAt = 0;
  let sinkCpu0 = 0;
  let pubCpu0 = 0;
  const stdin = pub.stdin as import("bun").FileSink;
  for await (const e of lines(pub.stdout as ReadableStream<Uint8Array>)) {
    // The publisher's CPU for a step is known when the next one starts (it keeps sending the backlog until then).
    if ((e.ev === "step-start" || e.ev === "done") && steps.length) {
      const s = steps[steps.length - 1]!;
      s.pubCpuUsPerSpan = ((e.cpuMs - pubCpu0) * 1000) / (s.sent - (steps[steps.length - 2]?.sent ?? 0));
    }
    if (e.ev === "step-start") (stepStart = performance.now()), (stepStartAt = e.at), (sinkCpu0 = sinkCpu), (pubCpu0 = e.cpuMs);
    if (e.ev !== "step") continue;
    const behindAtEnd = e.sent - received;
    // Wait for the sink to catch up: all received, or no progress for 3 s (max 30 s).
    let last = received;
    let still = performance.now();
    let doneAt = performance.now();
    while (received < e.sent && performance.now() - still < 3000 && performance.now() - stepStart < opts.secs * 1000 + 30_000) {
      await Bun.sleep(100);
      if (received !== last) (last = received), (still = doneAt = performance.now());
    }
    if (received >= e.sent) doneAt = performance.now();
    pubRss = Math.max(pubRss, e.rss);
    steps.push({
      rate: e.rate,
      sent: e.sent,
      received,
      lost: e.sent - received,
      droppedBatches: e.droppedBatches,
      // End to end by the clocks of the two ends (same host): the publisher's step start → the sink's last
      // batch; the polled figure (this process's view, up to ~200 ms late) is kept for comparison.
      achievedRate: received >= e.sent ? e.stepSent / (Math.max(1, sinkLastAt - stepStartAt) / 1000) : e.stepSent / ((doneAt - stepStart) / 1000),
      achievedRatePolled: e.stepSent / ((doneAt - stepStart) / 1000),
      behindAtEnd,
      gaps,
      sinkCpuUsPerSpan: ((sinkCpu - sinkCpu0) * 1000) / e.stepSent,
      pubCpuUsPerSpan: 0,
    });
    stdin.write("next\n");
    stdin.flush();
  }
  await pub.exited;
  sink.kill();
  await sink.exited;
  await broker.dispose();
  let maxLossless = 0;
  for (const s of steps) {
    if (s.lost > 0 || s.droppedBatches > 0 || s.gaps > 0) break;
    maxLossless = Math.max(maxLossless, s.achievedRate);
  }
  return { steps, maxLossless, sinkRssMiB: sinkRss / 1048576, pubRssMiB: pubRss / 1048576 };
}

if (role === "main" && import.meta.main) {
  const { createCgroup } = await import("./lib/cgroup.ts");
  const cg = argv.includes("--cgroup") ? createCgroup(`neuro-bench-spans-${process.pid}`, 256 << 20) : undefined;
  try {
    const r = await runSpanTransport({
      steps: arg("steps", "2500,5000,10000,20000,40000").split(",").map(Number),
      secs: Number(arg("secs", "3")),
      wrap: cg?.wrap,
      pubArgs: ["batch", "inflight", "noop"].flatMap((k) => (argv.includes(`--${k}`) ? (k === "noop" ? ["--noop"] : [`--${k}`, arg(k, "")]) : [])),
      cpuProfDir: argv.includes("--cpu-prof") ? arg("cpu-prof", "") : undefined,
    });
    console.log(JSON.stringify(r, null, 1));
  } finally {
    cg?.remove();
  }
}
