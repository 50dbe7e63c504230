// Host health on a timer (HOST_HEALTH_INTERVAL): one snapshot of the node, published retained at QoS 1 on
// <prefix>/hosts/<node> (docs/host-health.md). General figures (load, memory, filesystems) come from
// systeminformation; the Pi's own figures and network error counters from host-health-readers.ts, under NEURO_HOST_ROOT.
import { availableParallelism } from "node:os";
import type si from "systeminformation";
// The three modules measured here, not the package index: the index loads all 20 of its modules
// (docker, wifi, printers, …) and cost the agent ~2 MiB more PSS (1.6 MiB anonymous) on the compiled
// binary. The types are the package's own (typeof si.*).
// @ts-expect-error the per-module entry points ship without declarations
import * as siCpu from "systeminformation/lib/cpu.js";
// @ts-expect-error see above
import * as siFilesystem from "systeminformation/lib/filesystem.js";
// @ts-expect-error see above
import * as siMemory from "systeminformation/lib/memory.js";
import { silentLogger, type Logger } from "../src/log.ts";
import type { MqttConnection } from "../src/mqtt/connection.ts";
import { HOST_FILESYSTEMS_MAX, HOST_SNAPSHOT_VERSION, type HostSnapshot } from "../src/hosts/snapshot.ts";
import {
  readClockSynchronized,
  readIoErrors,
  readNetworkErrors,
  readRootReadOnly,
  readStorageWear,
  readTemperature,
  readThrottled,
  readUptimeSeconds,
} from "./host-health-readers.ts";

export interface HostHealthOptions {
  node: string;
  /** Prefix of every /sys, /proc and /run path read (NEURO_HOST_ROOT). */
  root: string;
  intervalMs: number;
  /** Injected clock (tests). */
  now?: () => number;
}

type SystemFigures = Pick<HostSnapshot, "filesystems" | "memory" | "load"> & { root?: { sizeBytes: number; usedPercent: number } };

const fsSize: typeof si.fsSize = siFilesystem.fsSize;
const memSize: typeof si.mem = siMemory.mem;
const currentLoad: typeof si.currentLoad = siCpu.currentLoad;

const settled = <T>(r: PromiseSettledResult<T>): T | undefined => (r.status === "fulfilled" ? r.value : undefined);
const whole = (n: unknown) => (typeof n === "number" && Number.isFinite(n) && n >= 0 ? Math.round(n) : 0);
const pct = (n: unknown) => (typeof n === "number" && Number.isFinite(n) ? Math.min(100, Math.max(0, Math.round(n * 10) / 10)) : 0);

/** What systeminformation measures here (one `df` child per call); each figure that fails is null (absent), the others still count. */
export async function systemFigures(): Promise<SystemFigures> {
  const [fs, mem, load] = await Promise.allSettled([fsSize(), memSize(), currentLoad()]);
  const fsList = settled(fs);
  const memory = settled(mem);
  const cpuLoad = settled(load);
  const filesystems = fsList
    ? fsList
        .filter((f) => f.size > 0)
        .sort((a, b) => b.size - a.size)
        .slice(0, HOST_FILESYSTEMS_MAX)
        .map((f) => ({
          mount: f.mount.slice(0, 4096),
          fs: f.fs.slice(0, 4096),
          type: (f.type ?? "").slice(0, 64),
          sizeBytes: whole(f.size),
          usedPercent: pct(f.use),
        }))
    : null;
  const rootEntry = fsList?.find((f) => f.mount === "/");
  return {
    filesystems,
    root: rootEntry ? { sizeBytes: whole(rootEntry.size), usedPercent: pct(rootEntry.use) } : undefined,
    memory: memory
      ? {
          totalBytes: whole(memory.total),
          availableBytes: whole(memory.available),
          swapTotalBytes: whole(memory.swaptotal),
          swapUsedBytes: whole(memory.swapused),
        }
      : null,
    load: cpuLoad && Number.isFinite(cpuLoad.avgLoad) ? { avg1: Math.max(0, cpuLoad.avgLoad), cpus: availableParallelism() } : null,
  };
}

/** Longest wait for systeminformation's figures in one collection. */
export const SYSTEM_FIGURES_TIMEOUT_MS = 10_000;

/** One snapshot of this node. `system` is injectable so the Pi readers can be tested without it. */
export async function collectHostSnapshot(
  opts: HostHealthOptions,
  system: () => Promise<SystemFigures> = systemFigures,
  systemTimeoutMs = SYSTEM_FIGURES_TIMEOUT_MS,
): Promise<HostSnapshot> {
  // A hung child (df on a dead mount) must not stop the snapshots: past the bound those figures are absent.
  const absent = (): SystemFigures => ({ filesystems: null, memory: null, load: null });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<SystemFigures>((r) => (timer = setTimeout(() => r(absent()), systemTimeoutMs)));
  const figures = await Promise.race([system().catch(absent), bound]);
  clearTimeout(timer);
  const readOnly = readRootReadOnly(opts.root);
  const clock = readClockSynchronized(opts.root);
  return {
    v: HOST_SNAPSHOT_VERSION,
    node: opts.node,
    time: new Date((opts.now ?? Date.now)()).toISOString(),
    intervalSeconds: opts.intervalMs / 1000,
    temperature: readTemperature(opts.root),
    throttled: readThrottled(opts.root),
    rootFs:
      figures.root || readOnly !== null
        ? { mount: "/", usedPercent: figures.root?.usedPercent ?? null, sizeBytes: figures.root?.sizeBytes ?? null, readOnly }
        : null,
    filesystems: figures.filesystems,
    memory: figures.memory,
    load: figures.load,
    network: readNetworkErrors(opts.root),
    storage: readStorageWear(opts.root),
    ioErrors: readIoErrors(opts.root),
    clock: { ...clock, uptimeSeconds: readUptimeSeconds(opts.root) },
  };
}

/** Collects and publishes on a timer; a collection never overlaps the previous one. */
export class HostHealthPublisher {
  readonly stats = { published: 0, failed: 0, collections: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private readonly log: Logger;
  readonly topic: string;

  constructor(
    private readonly connection: MqttConnection,
    private readonly opts: HostHealthOptions,
    log: Logger = silentLogger,
  ) {
    this.log = log.child({ component: "host-health" });
    this.topic = connection.topics.hosts(opts.node);
  }

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    // Publish at once on (re)connect: the controller must not wait a whole interval after a broker outage.
    this.connection.client.on("connect", this.onConnect);
  }

  private readonly onConnect = () => void this.tick();

  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.publishOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async publishOnce(): Promise<void> {
    const snapshot = await collectHostSnapshot(this.opts);
    this.stats.collections++;
    if (!this.connection.connected) return; // the next tick (or the reconnect) sends a fresh one
    try {
      await this.connection.publish(this.topic, JSON.stringify(snapshot), { retain: true });
      this.stats.published++;
    } catch (e) {
      if (this.stats.failed++ < 5) this.log.warn("cannot publish the host snapshot", { topic: this.topic, error: String(e) });
    }
  }

  /** Stops the timer; waits for a collection in flight at most `waitMs` (a hung child must not hold up shutdown). */
  async stop(waitMs = 2000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.connection.client.off("connect", this.onConnect);
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.running, new Promise<void>((r) => (timeout = setTimeout(r, waitMs)))]);
    clearTimeout(timeout);
  }
}
