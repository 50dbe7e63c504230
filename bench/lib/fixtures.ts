// The world the controller runs in during the bench: mosquitto, an SMTP server and a Slack receiver
// (the test suite's real servers), the load driver (simulator) in its own process, and a tail of
// cleaned_events.log with the wall time each line was seen.
import mqtt from "mqtt";
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSmtp } from "../../testkit/smtp.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";

export interface Seen<T> {
  at: number;
  value: T;
}

export class Receivers {
  readonly mqttAlerts: Seen<any>[] = [];
  private constructor(
    readonly mosquitto: TestMosquitto,
    readonly smtp: TestSmtp,
    readonly slack: SlackReceiver,
    private readonly sub: mqtt.MqttClient,
  ) {
    sub.on("message", (_t, payload) => {
      try {
        this.mqttAlerts.push({ at: Date.now(), value: JSON.parse(payload.toString()) });
      } catch {
        this.mqttAlerts.push({ at: Date.now(), value: null });
      }
    });
  }

  static async start(prefix: string): Promise<Receivers> {
    const mosquitto = await TestMosquitto.start();
    const smtp = await TestSmtp.start();
    const slack = SlackReceiver.start();
    const sub = await mqtt.connectAsync(mosquitto.url, {
      username: mosquitto.username,
      password: mosquitto.password,
      clientId: `bench-sub-${process.pid}`,
    });
    await sub.subscribeAsync(`${prefix}/alerts`, { qos: 1 });
    return new Receivers(mosquitto, smtp, slack, sub);
  }

  counts(): { slack: number; email: number; mqtt: number } {
    return { slack: this.slack.delivered().length, email: this.smtp.received.length, mqtt: this.mqttAlerts.length };
  }

  /** First MQTT alert at or after `since` that names the object. */
  firstAlertNaming(name: string, since: number): number | undefined {
    for (const m of this.mqttAlerts) if (m.at >= since && m.value?.alerts?.some((a: any) => a.name === name)) return m.at;
    return undefined;
  }

  async stop(): Promise<void> {
    await this.sub.endAsync();
    this.slack.stop();
    await this.smtp.stop();
    await this.mosquitto.dispose();
  }
}

/** Tails cleaned_events.log every 50 ms (the file is append-only; rotation is set far above what the bench writes). */
export class LogTail {
  readonly lines: Seen<Record<string, any>>[] = [];
  private offset = 0;
  private rest = "";
  private timer = setInterval(() => this.poll(), 50);

  constructor(private readonly path: string) {}

  poll(): void {
    if (!existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size <= this.offset) return;
    const fd = openSync(this.path, "r");
    const buf = Buffer.alloc(size - this.offset);
    readSync(fd, buf, 0, buf.length, this.offset);
    closeSync(fd);
    this.offset = size;
    const text = this.rest + buf.toString("utf8");
    const parts = text.split("\n");
    this.rest = parts.pop() ?? "";
    const at = Date.now();
    for (const p of parts) {
      try {
        this.lines.push({ at, value: JSON.parse(p) });
      } catch {
        /* partial line */
      }
    }
  }

  firstFiring(name: string, since: number): number | undefined {
    for (const l of this.lines) if (l.at >= since && l.value.name === name && l.value.status !== "resolved") return l.at;
    return undefined;
  }

  has(a: { kind: string; namespace: string; name: string; reason: string }): boolean {
    return this.lines.some(
      (l) => l.value.kind === a.kind && (l.value.namespace ?? "") === (a.namespace ?? "") && l.value.name === a.name && l.value.reason === a.reason,
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}

/** The load driver child process (simulator + workloads), spoken to over stdin/stdout JSON lines. */
export class Driver {
  readonly events: Record<string, any>[] = [];
  private waiters: { ev: string; resolve: (e: Record<string, any>) => void }[] = [];
  private constructor(private readonly proc: ReturnType<typeof Bun.spawn>) {}

  /** `readyTimeoutMs`: seeding grows faster than linearly with the cluster (30k pods take minutes on a loaded machine). */
  static async start(args: string[], readyTimeoutMs = 120_000): Promise<{ driver: Driver; ready: Record<string, any> }> {
    const proc = Bun.spawn(["bun", `${import.meta.dir}/../load-driver.ts`, ...args], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const d = new Driver(proc);
    void d.read();
    try {
      return { driver: d, ready: await d.wait("ready", readyTimeoutMs) };
    } catch (e) {
      proc.kill(); // never leave a seeding simulator behind
      throw e;
    }
  }

  private async read(): Promise<void> {
    let rest = "";
    for await (const chunk of this.proc.stdout as ReadableStream<Uint8Array>) {
      const parts = (rest + new TextDecoder().decode(chunk)).split("\n");
      rest = parts.pop() ?? "";
      for (const p of parts) {
        if (!p.trim()) continue;
        const e = JSON.parse(p);
        this.events.push(e);
        for (const w of this.waiters.filter((w) => w.ev === e.ev)) w.resolve(e);
        this.waiters = this.waiters.filter((w) => w.ev !== e.ev);
      }
    }
  }

  send(cmd: Record<string, unknown>): void {
    const stdin = this.proc.stdin as import("bun").FileSink;
    stdin.write(JSON.stringify(cmd) + "\n");
    stdin.flush();
  }

  wait(ev: string, timeoutMs: number): Promise<Record<string, any>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`load driver: no '${ev}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ ev, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }

  probes(since: number, until = Infinity): Record<string, any>[] {
    return this.events.filter((e) => e.ev === "probe" && e.t0 >= since && e.t0 <= until);
  }

  async stop(): Promise<void> {
    this.send({ cmd: "quit" });
    await Promise.race([this.proc.exited, Bun.sleep(5000)]);
    this.proc.kill();
  }
}
