// One protocol suite, two servers: the simulator and a real kube-apiserver 1.20.2 (when test/run.sh built it).
// Tests talk HTTP only, so whatever passes here is what the real API does too; the few places where 1.20 is
// simply older than the simulator's K3s 1.31 are named by `target.real` and listed in docs/real-apiserver.md.
import { realApiAvailable, startRealApiServer, type RealApiServer } from "../support/real-apiserver.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { api, start, type Api } from "./helpers.ts";

export type TargetName = "simulator" | "kube-apiserver";

export const TARGETS: TargetName[] = realApiAvailable() ? ["simulator", "kube-apiserver"] : ["simulator"];

export interface ApiTarget {
  name: TargetName;
  real: boolean;
  k: Api;
  url: string;
  /** Forget watch history: the simulator's compact fault; on the real server etcd compaction + restart (new watch cache). */
  compact(): Promise<void>;
  /** A fresh namespace for one test (namespaces are never deleted: no namespace controller runs). */
  namespace(prefix?: string): Promise<string>;
  /** The server's CA, and a bearer token it accepts (the simulator's configured token; a static admin token). */
  ca: string;
  token: string;
  /** PodDisruptionBudget group/version: policy/v1 in the simulator (K3s 1.31), only policy/v1beta1 in 1.20. */
  pdbApiVersion: string;
  sim?: Simulator;
  kas?: RealApiServer;
  stop(): Promise<void>;
}

let seq = 0;

export async function startTarget(name: TargetName, simOpts: Parameters<typeof start>[0] = {}): Promise<ApiTarget> {
  let target: Omit<ApiTarget, "namespace">;
  if (name === "simulator") {
    const token = `sim-${crypto.randomUUID()}`;
    const sim = await start({ token, ...simOpts });
    target = {
      name,
      real: false,
      ca: sim.certs!.ca,
      token,
      k: api(sim),
      url: sim.url,
      compact: async () => sim.faults.compact(),
      pdbApiVersion: "policy/v1",
      sim,
      stop: () => sim.stop(),
    };
  } else {
    const kas = await startRealApiServer();
    target = {
      name,
      real: true,
      ca: kas.certs.ca,
      token: kas.adminToken,
      k: api({ url: kas.url, certs: kas.certs }),
      url: kas.url,
      // The watch cache keeps serving history after an etcd compaction; a restart starts a new cache after it.
      compact: async () => {
        await kas.compact();
        await kas.restart();
      },
      pdbApiVersion: "policy/v1beta1",
      kas,
      stop: () => kas.stop(),
    };
  }
  return {
    ...target,
    async namespace(prefix = "t") {
      const ns = `${prefix}-${process.pid}-${++seq}`;
      const r = await target.k.json("/api/v1/namespaces", { method: "POST", json: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } });
      if (r.status !== 201) throw new Error(`create namespace ${ns}: ${r.status} ${JSON.stringify(r.body)}`);
      return ns;
    },
  };
}

/** The collection's current resourceVersion (a list's metadata.resourceVersion), the starting point of a watch. */
export async function currentRV(k: Api, collection: string): Promise<string> {
  const r = await k.json(collection);
  if (r.status !== 200) throw new Error(`list ${collection}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.metadata.resourceVersion;
}
