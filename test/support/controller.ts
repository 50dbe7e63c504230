// Runs the real controller as users do — a separate process, either from source (bun src/main.ts)
// or the compiled binary in dist/ — and reads what it wrote.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import type { LogRecord } from "../../src/diagnosis/log-writer.ts";
import { waitFor } from "../../testkit/wait.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);

export type Flavor = "source" | "binary";
/** Both ways users run it; the binary only when `npm test` built it. */
export const FLAVORS: Flavor[] = existsSync(BINARY) ? ["source", "binary"] : ["source"];

export function command(flavor: Flavor, args: string[]): string[] {
  return flavor === "binary" ? [BINARY, ...args] : [process.execPath, join(ROOT, "src/main.ts"), ...args];
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on("error", rej);
  });
}

/** Fast timings so tests see fire/resolve transitions quickly; thresholds stay meaningful. */
export const FAST_ENV: Record<string, string> = {
  DIAGNOSIS_WRITE_INTERVAL: "200ms",
  DIAGNOSIS_CLEAN_INTERVAL: "200ms",
  NEURO_EVALUATE_INTERVAL: "200ms",
  KUBERNETES_API_HEALTH_CHECK_INTERVAL: "1s",
  LEADER_LEASE_DURATION: "3s",
  LEADER_RENEW_DEADLINE: "2s",
  LEADER_RETRY_PERIOD: "500ms",
  LEADER_LEASE_NAMESPACE: "kube-system",
  RULE_POD_NOT_READY_FOR: "1s",
  RULE_POD_PENDING_FOR: "1s",
  RULE_NODE_NOT_READY_FOR: "1s",
  RULE_DEPLOYMENT_UNAVAILABLE_FOR: "1s",
  DIAGNOSIS_UNREADY_THRESHOLD_DURATION: "1s",
  RULE_ENDPOINTS_EMPTY_FOR: "1s",
};

/** One parsed cleaned_events.log line: the contract type the writer produces. */
export type LogLine = LogRecord;

export class ControllerProcess {
  proc!: Subprocess<"ignore", "pipe", "pipe">;
  stderr = "";
  readonly logDir: string;
  readonly stateDir: string;
  readonly port: number;
  exited?: Promise<number>;

  constructor(
    readonly flavor: Flavor,
    readonly kubeconfig: string,
    port: number,
    readonly env: Record<string, string> = {},
    dirs?: { logDir: string; stateDir: string },
  ) {
    const base = mkdtempSync(join(tmpdir(), "nc-ctl-"));
    this.logDir = dirs?.logDir ?? join(base, "log");
    this.stateDir = dirs?.stateDir ?? join(base, "state");
    this.port = port;
  }

  static async start(flavor: Flavor, kubeconfig: string, env: Record<string, string> = {}, dirs?: { logDir: string; stateDir: string }) {
    const c = new ControllerProcess(flavor, kubeconfig, await freePort(), env, dirs);
    c.spawn();
    return c;
  }

  spawn(): void {
    this.stderr = "";
    this.proc = Bun.spawn(command(this.flavor, ["controller", "--kubeconfig", this.kubeconfig]), {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
        ...FAST_ENV,
        NEURO_LOG_DIR: this.logDir,
        NEURO_STATE_DIR: this.stateDir,
        NEURO_HTTP_ADDR: `127.0.0.1:${this.port}`,
        ...this.env,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.exited = this.proc.exited;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of this.proc.stderr) this.stderr += decoder.decode(chunk);
    })();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await fetch(`${this.url}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs,
      message: `${this.flavor} controller /readyz (stderr: ${this.stderr.slice(-2000)})`,
    });
  }

  /** The metric's value summed over all its label sets; undefined when absent. */
  async metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "gm"))].map((m) => Number(m[1]));
    return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
  }

  lines(): LogLine[] {
    const file = join(this.logDir, "cleaned_events.log");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
  }

  /** Waits for a log line matching; returns it. */
  async line(match: Partial<LogLine>, timeoutMs = 20_000): Promise<LogLine> {
    return waitFor(() => this.lines().find((l) => Object.entries(match).every(([k, v]) => l[k as keyof LogLine] === v)), {
      timeoutMs,
      message: `log line ${JSON.stringify(match)} in ${this.logDir} (have: ${JSON.stringify(this.lines().map((l) => `${l.status} ${l.kind}/${l.namespace}/${l.name}/${l.reason}`))}; stderr tail: ${this.stderr.slice(-1500)})`,
    });
  }

  /** SIGTERM and wait for the exit code. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number> {
    this.proc.kill(signal);
    return this.proc.exited;
  }
}

export function count(lines: LogLine[], match: Partial<LogLine>): number {
  return lines.filter((l) => Object.entries(match).every(([k, v]) => l[k as keyof LogLine] === v)).length;
}
