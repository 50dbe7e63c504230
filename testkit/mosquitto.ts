// A real mosquitto broker (Debian package) on a free loopback port, with a password file made by
// mosquitto_passwd, persistence (so retained messages and persistent sessions survive stop/start,
// as in production) and max_queued_messages raised as in the config the project ships.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, isListening } from "./ports.ts";
import { waitFor } from "./wait.ts";

export interface MosquittoOptions {
  username?: string;
  password?: string;
  /** TLS listener (mqtts://) with these PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** More accounts in the password file (the ACL tests: one per node, readers, operators). */
  users?: { name: string; password: string }[];
  /** An ACL file's text (e.g. the Ansible role's template, rendered): written and set as acl_file. */
  acl?: string;
}

export class TestMosquitto {
  readonly dir: string;
  readonly username: string;
  readonly password: string;
  port = 0;
  private proc: Subprocess | undefined;
  stderr = "";

  private constructor(private readonly opts: MosquittoOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "neuro-mosquitto-"));
    this.username = opts.username ?? "neuro";
    this.password = opts.password ?? "s3cret-mqtt-pass";
  }

  static async start(opts: MosquittoOptions = {}): Promise<TestMosquitto> {
    const m = new TestMosquitto(opts);
    m.port = await freePort();
    const passwd = join(m.dir, "passwd");
    writeFileSync(passwd, "");
    for (const u of [{ name: m.username, password: m.password }, ...(opts.users ?? [])]) {
      const p = Bun.spawnSync(["mosquitto_passwd", "-b", passwd, u.name, u.password], { stderr: "pipe" });
      if (p.exitCode !== 0) throw new Error(`mosquitto_passwd failed: ${p.stderr.toString()}`);
    }
    let extra = opts.tls ? `certfile ${opts.tls.certFile}\nkeyfile ${opts.tls.keyFile}\n` : "";
    if (opts.acl !== undefined) {
      writeFileSync(join(m.dir, "acl"), opts.acl);
      extra += `acl_file ${join(m.dir, "acl")}\n`;
    }
    writeFileSync(
      join(m.dir, "mosquitto.conf"),
      `# user root: the tests run as root and mosquitto would otherwise switch to the mosquitto user,
# which cannot read this private temp directory.
user root
listener ${m.port} 127.0.0.1
${extra}allow_anonymous false
password_file ${passwd}
persistence true
persistence_location ${m.dir}/
max_queued_messages 10000
log_dest stderr
log_type error
log_type warning
`,
    );
    await m.resume();
    return m;
  }

  get url(): string {
    return `${this.opts.tls ? "mqtts" : "mqtt"}://127.0.0.1:${this.port}`;
  }

  /** The settings a controller or agent needs to use this broker. */
  get clientEnv(): { MQTT_URL: string; MQTT_USERNAME: string; MQTT_PASSWORD: string } {
    return { MQTT_URL: this.url, MQTT_USERNAME: this.username, MQTT_PASSWORD: this.password };
  }

  /** (Re)starts the broker on the same port with the same persistence directory. */
  async resume(): Promise<void> {
    const proc = Bun.spawn(["mosquitto", "-c", join(this.dir, "mosquitto.conf")], { stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    void (async () => {
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) this.stderr += new TextDecoder().decode(chunk);
    })();
    await waitFor(async () => proc.exitCode === null && (await isListening(this.port)), {
      timeoutMs: 10_000,
      message: () => `mosquitto listening on ${this.port} (stderr: ${this.stderr})`,
    });
  }

  /** Graceful stop (SIGTERM): mosquitto writes its persistence file. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    proc.kill("SIGTERM");
    await proc.exited;
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
