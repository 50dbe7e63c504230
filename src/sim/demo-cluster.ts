// The built-in demo cluster: the simulator over HTTPS with client-certificate auth, seeded with a
// healthy cluster, written out as a kubeconfig — so the demo exercises the same path as a real K3s.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type Simulator } from "./index.ts";
import { seedHealthyCluster, type SeedOptions } from "./scenarios.ts";

export interface DemoCluster {
  sim: Simulator;
  kubeconfig: string;
  stop(): Promise<void>;
}

function haveOpenssl(): boolean {
  return Bun.which("openssl") !== null;
}

export async function startDemoCluster(dir: string, opts: { port?: number; seed?: SeedOptions; plainHttp?: boolean } = {}): Promise<DemoCluster> {
  mkdirSync(dir, { recursive: true });
  // Certificates are made with the openssl CLI; without it the demo still runs, over plain HTTP.
  const tls = !opts.plainHttp && haveOpenssl();
  const sim = await startSimulator({ tls, port: opts.port ?? 0, certDir: join(dir, "pki"), bookmarkIntervalMs: 30_000 });
  seedHealthyCluster(sim.store, opts.seed);
  const kubeconfig = sim.kubeconfig(join(dir, "kubeconfig.yaml"));
  return { sim, kubeconfig, stop: () => sim.stop() };
}
