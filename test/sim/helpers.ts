// Test-side HTTP client for the simulator: real fetch over HTTPS with the simulator's client certificate.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type SimOptions, type Simulator } from "../../src/sim/index.ts";
import { waitFor } from "../../testkit/wait.ts";

/** One cert dir for the whole run: openssl runs once, every simulator reuses the PEMs. */
export const CERT_DIR = join(tmpdir(), "neurosim-test-certs");

export function start(opts: SimOptions = {}): Promise<Simulator> {
  return startSimulator({ certDir: CERT_DIR, bookmarkIntervalMs: 50, ...opts });
}

export interface Api {
  fetch(path: string, init?: RequestInit & { json?: unknown; contentType?: string }): Promise<Response>;
  json(path: string, init?: RequestInit & { json?: unknown; contentType?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  watch(path: string): WatchStream;
  /** A watch whose response headers arrived, i.e. the server has subscribed it. */
  watchReady(path: string): Promise<WatchStream>;
}

export function api(
  sim: Pick<Simulator, "url" | "certs">,
  tls: Record<string, string> | undefined = sim.certs && { ca: sim.certs.ca, cert: sim.certs.cert, key: sim.certs.key },
): Api {
  const doFetch = (path: string, init: RequestInit & { json?: unknown; contentType?: string } = {}) => {
    const headers = new Headers(init.headers);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set("content-type", init.contentType ?? "application/json");
    }
    return fetch(sim.url + path, { ...init, headers, body, tls } as RequestInit);
  };
  return {
    fetch: doFetch,
    async json(path, init) {
      const r = await doFetch(path, init);
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
    },
    watch: (path) => new WatchStream(doFetch(path)),
    async watchReady(path) {
      const w = new WatchStream(doFetch(path));
      await w.ready;
      return w;
    },
  };
}

export interface WatchEvt {
  type: string;
  object: any;
}

/** Collects a watch stream's events as they arrive; `ended`/`error` tell how it finished. */
export class WatchStream {
  events: WatchEvt[] = [];
  status?: number;
  ended = false;
  error?: unknown;
  private reader?: ReadableStreamDefaultReader<Uint8Array>;
  readonly done: Promise<void>;
  readonly ready: Promise<void>;

  constructor(resp: Promise<Response>) {
    this.ready = resp.then(
      () => {},
      () => {},
    );
    this.done = this.pump(resp);
  }

  private async pump(p: Promise<Response>): Promise<void> {
    try {
      const resp = await p;
      this.status = resp.status;
      this.reader = resp.body!.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) this.events.push(JSON.parse(line));
        }
      }
      this.ended = true;
    } catch (e) {
      this.error = e;
    }
  }

  of(type: string): WatchEvt[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Wait until at least n events of the type (or any type) arrived. */
  async waitCount(n: number, type?: string, timeoutMs = 5000): Promise<WatchEvt[]> {
    await waitFor(() => (type ? this.of(type) : this.events).length >= n, {
      timeoutMs,
      message: () => `expected ${n} ${type ?? ""} events, got ${JSON.stringify(this.events.map((e) => e.type))}`,
    });
    return type ? this.of(type) : this.events;
  }

  async cancel(): Promise<void> {
    await this.reader?.cancel().catch(() => {});
    await this.done;
  }
}

export const pod = (name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", labels },
  spec: { containers: [{ name: "app", image: "nginx:1.27" }], nodeName: "node-1" },
  status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  ...extra,
});
