// What the status page's live updates cost: the compiled controller in the budget cgroup (256 MiB,
// 20 ms/100 ms CPU) on the bench cluster (100 nodes / 3,000 pods) at `--rate` events/s with anomaly
// churn (a pod crash-looping every --probe-every ms, so the page really changes), first with no page
// open, then with `--clients` Server-Sent Events streams connected (each reading every update). Under load
// the controller's RSS drifts upwards by itself, so the same schedule runs twice — once with no client
// ever (the control), once with the clients — and what the clients added is the second phase's change
// in the client run minus the same change in the control run. Prints one JSON line. Issue budget:
// ≤ 5 m CPU, ≤ 5 MiB for 5 clients.
//   bun bench/status-page-sse.ts [--binary dist/neurocontroller-linux-x64] [--secs 40] [--rate 50] [--clients 5] [--probe-every 5000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCgroup } from "./lib/cgroup.ts";
import { BENCH_ENV } from "./lib/controller-bench.ts";
import { Driver } from "./lib/fixtures.ts";
import { max, mean, ProcSampler } from "./lib/sampler.ts";
import { waitFor } from "../testkit/wait.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const binary = arg("binary", join(import.meta.dir, "..", "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`));
const secs = Number(arg("secs", "40"));
const rate = Number(arg("rate", "50"));
const clients = Number(arg("clients", "5"));
const probeEveryMs = Number(arg("probe-every", "5000"));

interface Phase {
  cpuAvgM: number;
  rssAvgMiB: number;
  rssMaxMiB: number;
}

async function run(clients: number): Promise<{ noPage: Phase; second: Phase; liveClientsGauge: number; statusEvents: number; bytes: number }> {
  const work = mkdtempSync(join(tmpdir(), "neuro-sse-"));
  const { driver, ready } = await Driver.start(["--dir", join(work, "sim"), "--nodes", "100", "--deployments", "300", "--replicas", "10"]);
  const cg = createCgroup(`neuro-sse-${process.pid}-${clients}`, 256 << 20);
  const port = 20000 + ((process.pid + 7 + clients) % 20000);
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ...BENCH_ENV,
    NEURO_LOG_DIR: join(work, "log"),
    NEURO_STATE_DIR: join(work, "state"),
    NEURO_HTTP_ADDR: `127.0.0.1:${port}`,
    WEB_SSE_MAX_CLIENTS: String(Math.max(8, clients)),
  };
  const proc = Bun.spawn(cg.wrap([binary, "controller", "--kubeconfig", ready.kubeconfig]), { env, stdout: "ignore", stderr: "inherit" });
  const sampler = new ProcSampler(proc.pid).start();
  const phase = (name: string): Phase => {
    const s = sampler.of(name, 3);
    return {
      cpuAvgM: +mean(s.map((x) => x.cpuM)).toFixed(1),
      rssAvgMiB: +mean(s.map((x) => x.rssMiB)).toFixed(1),
      rssMaxMiB: +max(s.map((x) => x.rssMiB)).toFixed(1),
    };
  };
  const streams: AbortController[] = [];
  let statusEvents = 0;
  let bytes = 0;
  try {
    // Ready (every informer listed), then a short settle: the phases compare like with like either way.
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 60_000,
      message: "controller ready",
    });
    await Bun.sleep(3_000);
    driver.send({ cmd: "steady", secs: 2 * secs + 10, rate, probeEveryMs });
    await Bun.sleep(5_000);
    sampler.phase = "no-page";
    await Bun.sleep(secs * 1000);
    for (let i = 0; i < clients; i++) {
      const ac = new AbortController();
      streams.push(ac);
      const res = await fetch(`${url}/api/v1/events`, { signal: ac.signal });
      if (res.status !== 200) throw new Error(`client ${i}: HTTP ${res.status}`);
      void (async () => {
        try {
          for await (const chunk of res.body!) {
            bytes += chunk.byteLength;
            statusEvents += (new TextDecoder().decode(chunk).match(/^event: status$/gm) ?? []).length;
          }
        } catch {}
      })();
    }
    const liveClientsGauge = Number(/neurocontroller_web_live_clients (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    sampler.phase = "second";
    await Bun.sleep(secs * 1000);
    return { noPage: phase("no-page"), second: phase("second"), liveClientsGauge, statusEvents, bytes };
  } finally {
    for (const s of streams) s.abort();
    sampler.stop();
    proc.kill("SIGTERM");
    await proc.exited;
    await driver.stop();
    cg.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

const control = await run(0);
const withClients = await run(clients);
const change = (r: typeof control) => ({ cpuM: r.second.cpuAvgM - r.noPage.cpuAvgM, rssMiB: r.second.rssAvgMiB - r.noPage.rssAvgMiB });
console.log(
  JSON.stringify({
    clients,
    liveClientsGauge: withClients.liveClientsGauge,
    rate,
    probeEveryMs,
    secsPerPhase: secs,
    control: { noPage: control.noPage, second: control.second },
    withClients: { noPage: withClients.noPage, second: withClients.second },
    addedCpuM: +(change(withClients).cpuM - change(control).cpuM).toFixed(1),
    addedRssMiB: +(change(withClients).rssMiB - change(control).rssMiB).toFixed(1),
    statusEventsReceived: withClients.statusEvents,
    bytesReceived: withClients.bytes,
  }),
);
