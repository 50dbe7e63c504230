// Workloads (a) steady, (b) storm and (c) cold start against the COMPILED controller binary, which
// runs inside a cgroup with the appliance budget (memory 256 MiB, CPU 20 ms/100 ms).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCgroup } from "./cgroup.ts";
import { Driver, LogTail, Receivers } from "./fixtures.ts";
import type { LoadMonitor } from "./load.ts";
import { max, mean, ProcSampler, quantile } from "./sampler.ts";
import { spread, windows } from "./stats.ts";
import { threadMillicores, threadTicks } from "./threads.ts";

export interface ControllerProfile {
  /** "defaults": the shipped intervals (CPU, memory, storm budgets); "latency": short intervals so lag is not hidden behind batching. */
  config: "defaults" | "latency";
  settleMs: number;
  steadySecs: number;
  steadyRate: number;
  probeEveryMs: number;
  storm?: { secs: number; reschedule: number; updates: number };
  /** Also run `neurocontroller agent` (eBPF; root) in the same cgroup, as on a node where both share the slice. */
  agent?: boolean;
  /** Cluster size (default 100 nodes, 300 Deployments × 10 replicas: 3,000 pods); the cost curve varies it. */
  cluster?: { nodes: number; deployments: number; replicas: number };
  /** The cgroup's memory limit (default 256 MiB, the budget); the cost curve raises it to measure past the budget. */
  memoryLimitMiB?: number;
}

/** Settings every run uses (single instance, fixed topic prefix, no rotation during the bench). */
export const BENCH_ENV = {
  LEADER_ELECTION: "false",
  CLUSTER_ID: "bench",
  MQTT_TOPIC_PREFIX: "bench",
  NEURO_LOG_MAX_SIZE: "64MiB",
  NEURO_LOG_LEVEL: "warn",
};
/**
 * The "latency" run: cleaned_events.log written every 200 ms (default 6 s), alerts polled every
 * 250 ms (default 5 s), group wait 1 s (default 30 s, subtracted from the alert latency like a rule's duration).
 */
export const LATENCY_ENV = { DIAGNOSIS_WRITE_INTERVAL: "200ms", DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "250ms", ALERT_GROUP_WAIT: "1s" };

async function metrics(url: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split("\n")) {
      const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (m) out[m[1]! + (m[2] ?? "")] = Number(m[3]);
    }
  } catch {
    /* not up */
  }
  return out;
}
const sumOf = (m: Record<string, number>, name: string) =>
  Object.entries(m)
    .filter(([k]) => k === name || k.startsWith(`${name}{`))
    .reduce((a, [, v]) => a + v, 0);

function lagsOf(probes: Record<string, any>[], seenAt: (name: string, since: number) => number | undefined, minus = 0) {
  const lags: number[] = [];
  let missed = 0;
  for (const p of probes) {
    const at = seenAt(p.name, p.t0);
    if (at === undefined) missed++;
    else lags.push(Math.max(0, at - p.t0 - minus));
  }
  return { n: probes.length, missed, p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: max(lags), lags };
}

export async function runControllerBench(binary: string, prof: ControllerProfile, log: (s: string) => void, load?: LoadMonitor) {
  const work = mkdtempSync(join(tmpdir(), "neuro-bench-"));
  const rx = await Receivers.start(BENCH_ENV.MQTT_TOPIC_PREFIX);
  const simArgs = [
    ...["--dir", join(work, "sim"), "--nodes", String(prof.cluster?.nodes ?? 100)],
    ...["--deployments", String(prof.cluster?.deployments ?? 300), "--replicas", String(prof.cluster?.replicas ?? 10)],
  ];
  const { driver, ready } = await Driver.start(simArgs, 120_000 + (prof.cluster?.nodes ?? 100) * 600).catch(async (e) => {
    await rx.stop();
    rmSync(work, { recursive: true, force: true });
    throw e;
  });
  log(`simulator up: ${ready.nodes} nodes, ${ready.pods} pods`);
  const port = 20000 + (process.pid % 20000);
  const httpUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ...BENCH_ENV,
    ...(prof.config === "latency" ? LATENCY_ENV : {}),
    NEURO_LOG_DIR: join(work, "log"),
    NEURO_STATE_DIR: join(work, "state"),
    NEURO_HTTP_ADDR: `127.0.0.1:${port}`,
    SLACK_WEBHOOK_URL: rx.slack.url,
    MAIL_SMTP_HOST: "127.0.0.1",
    MAIL_SMTP_PORT: String(rx.smtp.port),
    MAIL_SMTP_TLS: "none",
    MAIL_USERNAME: rx.smtp.username,
    MAIL_PASSWORD: rx.smtp.password,
    MAIL_FROM: "bench@example.org",
    MAIL_TO: "ops@example.org",
    MQTT_URL: rx.mosquitto.url,
    MQTT_USERNAME: rx.mosquitto.username,
    MQTT_PASSWORD: rx.mosquitto.password,
  };
  const GROUP_WAIT_MS = prof.config === "latency" ? 1000 : 30_000;
  const cg = createCgroup(`neuro-bench-${process.pid}`, (prof.memoryLimitMiB ?? 256) << 20);
  const tail = new LogTail(join(work, "log", "cleaned_events.log"));
  const t0 = Date.now();
  const proc = Bun.spawn(cg.wrap([binary, "controller", "--kubeconfig", ready.kubeconfig]), { env, stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) stderr = (stderr + new TextDecoder().decode(c)).slice(-4000);
  })();
  const sampler = new ProcSampler(proc.pid).start();
  const agent = prof.agent
    ? Bun.spawn(cg.wrap([binary, "agent"]), {
        env: { ...env, AGENT_SOCKET_PATH: join(work, "agent.sock"), AGENT_NODE_NAME: "bench-node" },
        stdout: "ignore",
        stderr: "ignore",
      })
    : undefined;
  const agentSampler = agent ? new ProcSampler(agent.pid).start() : undefined;
  if (agent) sampler.partners = [agent.pid];
  let exited: number | null = null;
  void proc.exited.then((c) => (exited = c));
  const result: Record<string, any> = { config: prof.config, cgroup: cg.version, objects: ready.objects, pods: ready.pods, nodes: ready.nodes };
  try {
    // (c) cold start: spawn → /readyz 200 (every informer listed) → first MQTT alert (a pod crash-looping before start).
    let readyAt = 0;
    while (!readyAt && Date.now() - t0 < 120_000 + (prof.cluster?.nodes ?? 100) * 120 && exited === null) {
      try {
        if ((await fetch(`${httpUrl}/readyz`)).ok) readyAt = Date.now();
      } catch {
        /* not listening yet */
      }
      if (!readyAt) await Bun.sleep(50);
    }
    if (!readyAt) throw new Error(`controller never became ready (exit ${exited}): ${stderr}`);
    // The first alert is looked up at the end (with the default 30 s group wait it comes during the steady phase).
    const coldAlert = () => {
      const at = rx.firstAlertNaming(ready.coldPod, t0);
      return {
        load: load?.verdict(t0, readyAt),
        readyMs: readyAt - t0,
        firstAlertMs: at ? at - t0 : null,
        firstAlertAfterGroupWaitMs: at ? at - t0 - GROUP_WAIT_MS : null,
      };
    };
    result.cold = coldAlert();
    log(`cold start: ready ${readyAt - t0} ms`);
    sampler.phase = "idle";
    await Bun.sleep(prof.settleMs);
    const idle = sampler.of("idle", 2);
    result.idle = { cpuAvgM: mean(idle.map((s) => s.cpuM)), rssMiB: idle.at(-1)?.rssMiB, pssMiB: idle.at(-1)?.pssMiB, anonMiB: idle.at(-1)?.anonMiB };

    // (a) steady.
    sampler.phase = "steady";
    const m0 = await metrics(httpUrl);
    const threads0 = threadTicks(proc.pid);
    const steadyStart = Date.now();
    driver.send({ cmd: "steady", secs: prof.steadySecs, rate: prof.steadyRate, probeEveryMs: prof.probeEveryMs });
    const se = await driver.wait("steady-end", (prof.steadySecs + 60) * 1000);
    const threadsM = threadMillicores(threads0, threadTicks(proc.pid), (Date.now() - steadyStart) / 1000);
    sampler.phase = "steady-drain";
    await Bun.sleep(6000);
    const m1 = await metrics(httpUrl);
    const probes = driver.probes(steadyStart);
    const lag = lagsOf(probes, (n, s) => tail.firstFiring(n, s));
    const alert = lagsOf(probes, (n, s) => rx.firstAlertNaming(n, s), GROUP_WAIT_MS);
    // Unbounded growth: the last third of probes much slower than the first third.
    const third = Math.max(1, Math.floor(lag.lags.length / 3));
    const early = quantile(lag.lags.slice(0, third), 0.5);
    const late = quantile(lag.lags.slice(-third), 0.5);
    const ss = sampler.of("steady", 5);
    result.steady = {
      secs: se.secs,
      eventsGenerated: se.events,
      eventsPerSec: se.events / se.secs,
      eventsProcessed: sumOf(m1, "neurocontroller_events_processed_total") - sumOf(m0, "neurocontroller_events_processed_total"),
      rssMaxMiB: max(ss.map((s) => s.rssMiB)),
      rssEndMiB: ss.at(-1)?.rssMiB,
      // PSS: controller alone, and controller + agent summed per sample (the agent shares the binary's pages).
      pssMaxMiB: max(ss.map((s) => s.pssMiB)),
      anonMaxMiB: max(ss.map((s) => s.anonMiB)),
      combinedPssMaxMiB: max(ss.map((s) => s.combinedPssMiB)),
      combinedPssAnonMaxMiB: max(ss.map((s) => s.combinedPssAnonMiB)),
      combinedRssMaxMiB: max(ss.map((s) => s.combinedRssMiB)),
      // Three equal windows of the steady phase: the spread of one run (the full profile also repeats whole runs).
      windows: {
        cpuAvgM: spread(windows(ss, 3).map((w) => mean(w.map((s) => s.cpuM)))),
        combinedPssMaxMiB: spread(windows(ss, 3).map((w) => max(w.map((s) => s.combinedPssMiB)))),
      },
      load: load?.verdict(steadyStart),
      cpuAvgM: mean(ss.map((s) => s.cpuM)),
      cpuP99M: quantile(
        ss.map((s) => s.cpuM),
        0.99,
      ),
      /** Millicores per thread over the steady phase: the JS thread (named after the binary), "HTTP Client", GC and JIT helpers. */
      threadsM,
      lag: { ...lag, lags: undefined, earlyP50: early, lateP50: late, growing: lag.lags.length >= 6 && late > 3 * early && late > 1000 },
      alert: { ...alert, lags: undefined },
    };
    log(
      `steady (${prof.config}): ${(se.events / se.secs).toFixed(1)} ev/s, cpu avg ${result.steady.cpuAvgM.toFixed(1)}m, lag p99 ${lag.p99} ms, alert p99 ${alert.p99} ms`,
    );

    result.cold = coldAlert();
    log(`cold start: first alert ${result.cold.firstAlertMs ?? "none yet"} ms after spawn`);
    if (!prof.storm) return result;
    // (b) storm.
    sampler.phase = "storm";
    const c0 = rx.counts();
    const linesBefore = tail.lines.length;
    const stormStart = Date.now();
    driver.send({ cmd: "storm", ...prof.storm });
    const st = await driver.wait("storm-end", (prof.storm.secs + 120) * 1000);
    sampler.phase = "storm-drain";
    // What should be firing now, judged by `scan` (same binary, one list, every rule once).
    const scanAt = Date.now();
    const scan = Bun.spawnSync([binary, "scan", "--kubeconfig", ready.kubeconfig, "--output", "json"], {
      env: { ...env, NEURO_HTTP_ADDR: "127.0.0.1:0" },
    });
    const expected = scan.stdout
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    driver.send({ cmd: "probe" }); // recovery: a fresh anomaly right after the storm
    const rec = await driver.wait("probe", 5000);
    let recAt: number | undefined;
    for (let i = 0; i < 300 && recAt === undefined; i++) await Bun.sleep(50), (recAt = tail.firstFiring(rec.name, rec.t0));
    // One evaluate interval (5 s) + one write interval (6 s) by default: then every expected anomaly must be in the log.
    await Bun.sleep(Math.max(0, scanAt + 13_000 - Date.now()));
    const c1 = rx.counts();
    const missing = expected.filter((a) => !tail.has(a));
    const sm = sampler.samples.filter((s) => s.phase === "storm" || s.phase === "storm-drain");
    result.storm = {
      secs: st.secs,
      eventsGenerated: st.events,
      rescheduled: st.rescheduled,
      strandedOnFailedNode: st.stranded,
      updates: st.updates,
      notifications: { slack: c1.slack - c0.slack, email: c1.email - c0.email, mqtt: c1.mqtt - c0.mqtt },
      mqttAlerts: rx.mqttAlerts
        .slice(c0.mqtt)
        .map((m) => `${m.value?.status} ${m.value?.level} ${m.value?.alertCount} alerts: ${String(m.value?.title).slice(0, 90)}`),
      linesLogged: tail.lines.length - linesBefore,
      expectedAnomalies: expected.length,
      missingFromLog: missing.map((a) => `${a.kind}/${a.namespace ?? ""}/${a.name} ${a.reason}`),
      scanExit: scan.exitCode,
      recoveryLagMs: recAt === undefined ? null : recAt - rec.t0,
      rssMaxMiB: max(sm.map((s) => s.rssMiB)),
      combinedPssMaxMiB: max(sm.map((s) => s.combinedPssMiB)),
      combinedPssAnonMaxMiB: max(sm.map((s) => s.combinedPssAnonMiB)),
      cpuAvgM: mean(sm.map((s) => s.cpuM)),
      load: load?.verdict(stormStart),
      sinceStart: Date.now() - stormStart,
    };
    log(
      `storm: ${st.events} events in ${st.secs.toFixed(0)} s, notifications ${JSON.stringify(result.storm.notifications)}, missing ${missing.length}/${expected.length}`,
    );
    return result;
  } finally {
    const m2 = await metrics(httpUrl);
    result.drops = {
      rawPoolDropped: sumOf(m2, "neurocontroller_raw_pool_dropped_total"),
      logLinesDropped: sumOf(m2, "neurocontroller_log_lines_dropped_total"),
      logWriteErrors: sumOf(m2, "neurocontroller_log_write_errors_total"),
      notificationsFailed: sumOf(m2, "neurocontroller_notifications_failed_total") + sumOf(m2, "notifications_failed_total"),
      outboxPending: sumOf(m2, "neurocontroller_outbox_pending") + sumOf(m2, "outbox_pending"),
      informerRestarts: sumOf(m2, "neurocontroller_informer_restarts_total"),
      ruleErrors: sumOf(m2, "neurocontroller_rule_errors_total"),
    };
    sampler.sample();
    sampler.stop();
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(10_000)]);
    if (exited === null) proc.kill("SIGKILL");
    await proc.exited;
    tail.stop();
    result.exitCode = proc.exitCode;
    result.signal = proc.signalCode ?? null;
    result.oomKills = cg.oomKills();
    result.cgroupMemoryPeakMiB = cg.memoryPeak() / 1048576;
    result.cpuThrottled = cg.cpuThrottled();
    result.rssMaxMiB = max(sampler.samples.map((s) => s.rssMiB));
    if (agent && agentSampler) {
      agentSampler.stop();
      const alive = agent.exitCode === null;
      agent.kill("SIGTERM");
      await Promise.race([agent.exited, Bun.sleep(5000)]);
      const a = agentSampler.samples;
      result.agent = { ran: alive, rssMaxMiB: max(a.map((s) => s.rssMiB)), cpuAvgM: mean(a.slice(3).map((s) => s.cpuM)), exitCode: agent.exitCode };
      // Upper bound of the sum: the two peaks need not coincide.
      result.combinedRssMaxMiB = result.rssMaxMiB + (alive ? result.agent.rssMaxMiB : 0);
    }
    result.hwmMiB = max(sampler.samples.map((s) => s.hwmMiB));
    result.pssPeakMiB = max(sampler.samples.map((s) => s.combinedPssMiB));
    result.pssAnonPeakMiB = max(sampler.samples.map((s) => s.combinedPssAnonMiB));
    result.samples = sampler.samples.length;
    result.stderrTail = proc.exitCode === 0 ? undefined : stderr.slice(-1000);
    await driver.stop();
    await rx.stop();
    cg.remove();
    rmSync(work, { recursive: true, force: true });
  }
}
