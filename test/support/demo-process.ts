// `neurocontroller demo` as a separate process (source or compiled binary), with its HTTP endpoint on a
// free loopback port (or the address given), for the status page and Home Assistant tests.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { waitFor } from "../../testkit/wait.ts";
import { command, type Flavor, freePort } from "./controller.ts";

export class DemoProcess {
  out = "";
  err = "";
  private constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly port: number,
    readonly dir: string,
  ) {
    void this.drain(proc.stdout, (s) => (this.out += s));
    void this.drain(proc.stderr, (s) => (this.err += s));
  }

  /** `host`: the listen host (default 127.0.0.1); the URL the test uses is always loopback. */
  static async start(flavor: Flavor, env: Record<string, string>, host = "127.0.0.1"): Promise<DemoProcess> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "nc-demo-"));
    const proc = Bun.spawn(command(flavor, ["demo", "--keep-running", "--dir", dir]), {
      env: { PATH: process.env.PATH ?? "", HOME: dir, NEURO_HTTP_ADDR: `${host}:${port}`, NEURO_LOG_LEVEL: "info", ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const d = new DemoProcess(proc, port, dir);
    await waitFor(async () => (await fetch(`${d.url}/healthz`)).ok, {
      timeoutMs: 30_000,
      message: () => `demo /healthz (stderr: ${d.err.slice(-2000)})`,
    });
    return d;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get kubeconfig(): string {
    return join(this.dir, "kubeconfig.yaml");
  }

  async stop(): Promise<number> {
    this.proc.kill("SIGTERM");
    return await this.proc.exited;
  }

  private async drain(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of stream) sink(dec.decode(chunk));
  }
}
