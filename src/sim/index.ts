// A faithful, small Kubernetes API server for tests, `neurocontroller demo` and benchmarks.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCerts } from "./certs.ts";
import { Faults, type SimFaults } from "./faults.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { SimServer } from "./server.ts";
import { SimStore } from "./store.ts";
import { WatchHub } from "./watch.ts";
import { VERSION_INFO } from "./discovery.ts";
import { installNodeLifecycle, type VersionInfo } from "./node-lifecycle.ts";

export interface SimOptions {
  host?: string;
  /** 0 = ephemeral; restart() reuses the port first bound. */
  port?: number;
  /** HTTPS with a self-made CA (openssl CLI), default true. */
  tls?: boolean;
  /** Default true with tls: requests without a client certificate signed by the CA get 401. */
  clientCertAuth?: boolean;
  /** Bearer token also accepted when set; a wrong one gets 401. */
  token?: string;
  certDir?: string;
  /** Watch events kept per resource for replay (default 10000); older RVs get 410 Expired. */
  historyLimit?: number;
  /** false = that group/version is not served (404, absent from discovery). */
  served?: { endpointSlices?: boolean; policyV1?: boolean };
  /** BOOKMARK period for watches with allowWatchBookmarks (default 60000; set small in tests). */
  bookmarkIntervalMs?: number;
  /** Clock for timestamps the store writes (default Date.now). */
  now?: () => number;
  /** Dead-node semantics and ReplicaSet/StatefulSet controllers (src/sim/node-lifecycle.ts); default false. */
  nodeLifecycle?: boolean;
  /** What /version answers (default the K3s 1.31 the scenarios use); < 1.28 has no out-of-service taint. */
  version?: VersionInfo;
  /** Serve an existing store (e.g. one seeded before start) instead of a new empty one. */
  store?: SimStore;
}

export interface Simulator {
  url: string;
  certs?: { dir: string; caFile: string; certFile: string; keyFile: string; ca: string; cert: string; key: string };
  kubeconfig(file?: string): string;
  store: SimStore;
  faults: SimFaults;
  stats(): { requests: number; watches: number; openWatches: number };
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  const tls = opts.tls ?? true;
  const clientCertAuth = tls && (opts.clientCertAuth ?? true);
  const store = opts.store ?? new SimStore({ historyLimit: opts.historyLimit, now: opts.now });
  const hub = new WatchHub(store, opts.bookmarkIntervalMs ?? 60_000);
  const served = { endpointSlices: true, policyV1: true, ...opts.served };
  const certs = tls ? ensureCerts(opts.certDir ?? mkdtempSync(join(tmpdir(), "neurosim-")), host) : undefined;
  let server: SimServer;
  const faults = new Faults({
    closeWatches: () => hub.closeAll(),
    compact: () => store.compact(),
    killSockets: () => server.killSockets(),
  });
  const version = opts.version ?? VERSION_INFO;
  const lifecycle = opts.nodeLifecycle ?? false;
  const stopLifecycle = lifecycle ? installNodeLifecycle(store, version) : () => {};
  server = new SimServer({ host, tls, clientCertAuth, token: opts.token, certs }, { store, hub, served, version, lifecycle }, faults);
  const port = await server.listen(opts.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `${tls ? "https" : "http"}://${urlHost}:${port}`;
  let running = true;
  let kubeconfigDir: string | undefined;

  return {
    url,
    certs: certs && {
      dir: certs.dir,
      caFile: certs.caFile,
      certFile: certs.certFile,
      keyFile: certs.keyFile,
      ca: certs.ca,
      cert: certs.cert,
      key: certs.key,
    },
    kubeconfig(file?: string) {
      if (!file) {
        kubeconfigDir ??= certs?.dir ?? mkdtempSync(join(tmpdir(), "neurosim-kc-"));
        file = join(kubeconfigDir, "kubeconfig.yaml");
      }
      return writeKubeconfig(file, {
        server: url,
        ca: certs?.ca,
        cert: clientCertAuth ? certs?.cert : undefined,
        key: clientCertAuth ? certs?.key : undefined,
        token: opts.token,
      });
    },
    store,
    faults,
    stats: () => ({ requests: server.requests, watches: hub.total, openWatches: hub.openCount }),
    async stop() {
      running = false;
      stopLifecycle();
      await server.stop();
    },
    async restart() {
      if (running) await server.stop();
      await server.listen(port);
      running = true;
    },
  };
}

export { SimStore } from "./store.ts";
export type { StoreOptions, UpdateMode, UpdateOptions } from "./store.ts";
export type { SimFaults } from "./faults.ts";
export { SimError, statusBody } from "./status.ts";
export { RESOURCES, findResource, apiVersionOf, type SimResource } from "./resources.ts";
export { kubeconfigYaml } from "./kubeconfig.ts";
