// cleaned_events.log under real faults, with the real controller process: an unwritable log
// directory (lines held in state.db across a restart, written exactly once when it works again, the
// outage alerted to Slack), a broken MQTT channel next to a working Slack one, and a full disk (a
// 64 KiB tmpfs): never a partial or duplicated line, and log_lines_written_total equal to what is
// in the file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod } from "../../src/sim/injectors.ts";
import { seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { ControllerProcess, count, FLAVORS, type LogLine } from "../support/controller.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { waitFor } from "../../testkit/wait.ts";

const ALERT_ENV = {
  CLUSTER_ID: "durable",
  LEADER_ELECTION: "false",
  DIAGNOSIS_ALERT_DISPATCH_INTERVAL: "200ms",
  ALERT_GROUP_WAIT: "1s",
  ALERT_GROUP_INTERVAL: "2s",
  ALERT_REPEAT_INTERVAL: "1h",
  SLACK_ALERT_DISPATCH_INTERVAL: "200ms",
  ALERT_RETRY_MIN_BACKOFF: "200ms",
  ALERT_RETRY_MAX_BACKOFF: "1s",
  ENABLE_EMAIL_ALERT: "false",
};

async function readyz(
  ctl: ControllerProcess,
): Promise<{ status: number; body: { ok: boolean; status: string; reasons: string[]; degraded: string[] } }> {
  const r = await fetch(`${ctl.url}/readyz`, { headers: { accept: "application/json" } });
  return { status: r.status, body: await r.json() };
}

async function metricLine(ctl: ControllerProcess, name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${ctl.url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name}\\{${labels}\\} ([0-9.e+-]+)$`, "m"));
  return m ? Number(m[1]) : undefined;
}

/** Every line of the file must be a whole JSON object on its own line. */
function wholeLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  if (text.length) expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
}

/** Per anomaly key, statuses must alternate firing/resolved: a repeated status is a duplicate line. */
function expectNoDuplicates(lines: LogLine[]): void {
  const last = new Map<string, string>();
  for (const l of lines) {
    const key = `${l.kind}/${l.namespace}/${l.name}/${l.reason}`;
    expect(`${key} ${last.get(key)}`).not.toBe(`${key} ${l.status}`);
    last.set(key, l.status);
  }
}

for (const flavor of FLAVORS) {
  describe(`cleaned_events.log durability (${flavor})`, () => {
    let sim: Simulator;
    let seeded: SeededCluster;
    let slack: SlackReceiver;
    let mnt: string | undefined;

    beforeAll(async () => {
      sim = await startSimulator({ tls: true, clientCertAuth: true });
      seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 6, replicasPerDeployment: 3 });
      slack = SlackReceiver.start();
    });
    afterAll(async () => {
      slack?.stop();
      await sim?.stop();
      if (mnt) spawnSync("umount", [mnt]);
    });

    test("unwritable NEURO_LOG_DIR: lines held in state.db, readiness degraded, LogWriteFailing to Slack despite a broken MQTT channel; after a restart with it writable every line is written exactly once", async () => {
      const base = mkdtempSync(join(tmpdir(), "nc-durable-"));
      const blocker = join(base, "blocker");
      writeFileSync(blocker, "a regular file where the log directory's parent should be"); // ENOTDIR, even for root
      const dirs = { logDir: join(blocker, "log"), stateDir: join(base, "state") };
      const env = {
        ...ALERT_ENV,
        SLACK_WEBHOOK_URL: slack.url,
        // A broker that is down: this channel's notifications wait in the outbox, the others go on.
        // (Settings invalid when read are refused at start-up; a channel that breaks after that fails
        // alone: test/channels/isolation.test.ts.)
        MQTT_URL: "mqtt://127.0.0.1:1",
      };
      let ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), env, dirs);
      try {
        await ctl.ready(); // degraded is still ready
        const pod = seeded.deployments[0]!.pods[0]!;
        crashLoopPod(sim.store, "default", pod);
        await waitFor(async () => ((await ctl.metric("neurocontroller_log_lines_pending")) ?? 0) > 0, {
          message: () => `pending lines (stderr: ${ctl.stderr.slice(-1500)})`,
        });
        const r = await waitFor(async () => {
          const x = await readyz(ctl);
          return x.body.degraded.some((d) => d.startsWith("cleaned_events.log not writable")) ? x : undefined;
        });
        expect(r.status).toBe(200);
        expect(r.body.status).toBe("degraded");
        expect(await metricLine(ctl, "neurocontroller_channel_up", 'channel="slack"')).toBe(1);
        // The working channel still gets the alerts, the log outage among them.
        await waitFor(() => slack.delivered().some((p) => JSON.stringify(p.body).includes("LogWriteFailing")), {
          message: () => `LogWriteFailing at Slack (${slack.posts.length} posts)`,
        });
        await waitFor(() => slack.delivered().some((p) => JSON.stringify(p.body).includes(pod)), { message: "the crash loop at Slack" });
        expect(await ctl.metric("neurocontroller_log_lines_written_total")).toBe(0);
        expect(await ctl.metric("neurocontroller_log_write_errors_total")).toBeGreaterThan(0);
        const pending = (await ctl.metric("neurocontroller_log_lines_pending"))!;
        expect(await ctl.stop()).toBe(0);

        rmSync(blocker); // the directory can be created now
        ctl = new ControllerProcess(flavor, ctl.kubeconfig, ctl.port, env, dirs);
        ctl.spawn();
        await ctl.ready();
        await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
        await ctl.line({ reason: "LogWriteFailing", status: "firing" });
        await ctl.line({ reason: "LogWriteFailing", status: "resolved" }); // written from state.db, then resolved by the new process
        await waitFor(async () => (await ctl.metric("neurocontroller_log_lines_pending")) === 0);
        const lines = wholeLines(join(dirs.logDir, "cleaned_events.log"));
        expect(lines.length).toBeGreaterThanOrEqual(pending);
        expectNoDuplicates(lines);
        expect(count(lines, { name: pod, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
        expect(count(lines, { reason: "LogWriteFailing", status: "firing" })).toBe(1);
        expect(await ctl.metric("neurocontroller_log_lines_written_total")).toBe(lines.length);
      } finally {
        await ctl.stop();
      }
    });

    test("corrupt state.db: moved aside with a loud error naming both paths, the controller starts fresh and logs", async () => {
      const base = mkdtempSync(join(tmpdir(), "nc-corrupt-"));
      const dirs = { logDir: join(base, "log"), stateDir: join(base, "state") };
      mkdirSync(dirs.stateDir);
      writeFileSync(join(dirs.stateDir, "state.db"), "this is not a database ".repeat(500));
      const ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), { LEADER_ELECTION: "false", CLUSTER_ID: "corrupt" }, dirs);
      try {
        await ctl.ready();
        const aside = readdirSync(dirs.stateDir).filter((f) => f.startsWith("state.db.corrupt-"));
        expect(aside.length).toBe(1);
        const err = ctl.stderr
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .find((o) => o.message.startsWith("state.db was corrupt"));
        expect(err?.["log.level"]).toBe("error");
        expect(err?.movedTo).toBe(join(dirs.stateDir, aside[0]!));
        expect(err?.path).toBe(join(dirs.stateDir, "state.db"));
        const pod = seeded.deployments[5]!.pods[2]!;
        crashLoopPod(sim.store, "default", pod);
        await ctl.line({ name: pod, reason: "CrashLoopBackOff", status: "firing" });
      } finally {
        await ctl.stop();
      }
    });

    test("disk full (64 KiB tmpfs): no partial or duplicate line, everything written once space returns, counter equal to the file", async () => {
      mnt = mkdtempSync(join(tmpdir(), "nc-tmpfs-"));
      const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
      expect(mounted.status, `mount tmpfs (needs root): ${mounted.stderr}`).toBe(0);
      const logDir = join(mnt, "log");
      mkdirSync(logDir);
      const filler = join(mnt, "filler");
      writeFileSync(filler, Buffer.alloc(56 * 1024, 1)); // leaves about 4 KiB: room for a few lines only
      const dirs = { logDir, stateDir: mkdtempSync(join(tmpdir(), "nc-durable-state-")) };
      const ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...ALERT_ENV, CLUSTER_ID: "full" }, dirs);
      try {
        await ctl.ready();
        const pods = seeded.deployments.slice(1).flatMap((d) => d.pods);
        for (const p of pods) crashLoopPod(sim.store, "default", p);
        await waitFor(async () => ((await ctl.metric("neurocontroller_log_write_errors_total")) ?? 0) > 0, {
          message: () => `ENOSPC (stderr: ${ctl.stderr.slice(-1500)})`,
        });
        expect((await ctl.metric("neurocontroller_log_lines_pending"))!).toBeGreaterThan(0);
        const during = wholeLines(join(logDir, "cleaned_events.log"));
        expect(during.length).toBe((await ctl.metric("neurocontroller_log_lines_written_total"))!);
        expect((await readyz(ctl)).body.degraded.join()).toContain("ENOSPC");

        rmSync(filler); // space returns
        await waitFor(async () => (await ctl.metric("neurocontroller_log_lines_pending")) === 0, {
          message: () => `drained (stderr: ${ctl.stderr.slice(-1500)})`,
        });
        await ctl.line({ reason: "LogWriteFailing", status: "resolved" });
        const lines = wholeLines(join(logDir, "cleaned_events.log"));
        expectNoDuplicates(lines);
        for (const p of pods) expect(count(lines, { name: p, reason: "CrashLoopBackOff", status: "firing" })).toBe(1);
        expect(await ctl.metric("neurocontroller_log_lines_written_total")).toBe(lines.length);
        expect((await readyz(ctl)).body.degraded).toEqual([]);
      } finally {
        await ctl.stop();
      }
    });
  });
}
