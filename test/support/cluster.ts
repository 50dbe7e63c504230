// The cluster an end-to-end test runs the controller against: the simulator, or a real kube-apiserver 1.20.2 fed by
// the same scenario builders (test/support/mirror.ts). On the real server the controller runs as the service account
// deploy/ ships, with deploy/rbac.yaml applied as is: a permission missing there fails the test (403s are counted).
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { SimStore } from "../../src/sim/store.ts";
import { FLAVORS, type Flavor } from "./controller.ts";
import { StoreMirror } from "./mirror.ts";
import { realApiAvailable, startRealApiServer, type RealApiServer } from "./real-apiserver.ts";

export type ClusterKind = "simulator" | "kube-apiserver";

export interface Cluster {
  kind: ClusterKind;
  /** Scenario builders write here; on the real server every write is replayed over HTTP. */
  store: SimStore;
  /** What the controller runs with: the admin on the simulator, the shipped service account on the real server. */
  kubeconfig(): string;
  /** Extra controller environment (the Lease and shared state live where deploy/rbac.yaml allows them). */
  env: Record<string, string>;
  /** Namespace of the Lease and the shared-state ConfigMaps. */
  leaderNamespace: string;
  /** Reads an object from the server (not the local store): the controller's own writes. */
  get(path: string): Promise<any>;
  /** Every scenario write so far has reached the server. */
  settle(): Promise<void>;
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  /**
   * Forces every open watch to resume from a resourceVersion that is too old (410 → relist): the simulator's
   * compact + close-watches faults; on the real server an etcd compaction and an apiserver restart (its new
   * watch cache starts after the compacted revision).
   */
  expireWatches(): Promise<void>;
  sim?: Simulator;
  kas?: RealApiServer;
  stop(): Promise<void>;
}

/** The simulator with every flavor; the real server with one (the compiled binary when built): it is the slow tier. */
export const CLUSTER_CASES: { cluster: ClusterKind; flavor: Flavor }[] = [
  ...FLAVORS.map((flavor) => ({ cluster: "simulator" as const, flavor })),
  ...(realApiAvailable() ? [{ cluster: "kube-apiserver" as const, flavor: FLAVORS.at(-1)! }] : []),
];

export async function startCluster(kind: ClusterKind): Promise<Cluster> {
  if (kind === "simulator") {
    const sim = await startSimulator({ tls: true, clientCertAuth: true });
    const tls = sim.certs && { ca: sim.certs.ca, cert: sim.certs.cert, key: sim.certs.key };
    return {
      kind,
      store: sim.store,
      kubeconfig: () => sim.kubeconfig(),
      env: {},
      leaderNamespace: "kube-system",
      get: async (path) => {
        const r = await fetch(sim.url + path, { tls } as RequestInit);
        return r.status === 200 ? r.json() : undefined;
      },
      settle: async () => {},
      stopApi: () => sim.stop(),
      startApi: () => sim.restart(),
      expireWatches: async () => {
        sim.faults.compact();
        sim.faults.closeWatches();
      },
      sim,
      stop: () => sim.stop(),
    };
  }
  const kas = await startRealApiServer();
  try {
    await kas.applyDeployRbac();
    const token = await kas.serviceAccountToken("neurocontroller", "neurocontroller");
    const kubeconfig = kas.tokenKubeconfig(token);
    const store = new SimStore();
    const mirror = new StoreMirror(store, { url: kas.url, certs: kas.certs });
    return {
      kind,
      store,
      kubeconfig: () => kubeconfig,
      env: { LEADER_LEASE_NAMESPACE: "neurocontroller" },
      leaderNamespace: "neurocontroller",
      get: async (path) => {
        const r = await fetch(kas.url + path, { tls: kas.certs } as RequestInit);
        return r.status === 200 ? r.json() : undefined;
      },
      settle: async () => {
        await mirror.idle();
        if (mirror.errors.length) throw new Error(`the real server refused scenario writes: ${mirror.errors.join("; ")}`);
      },
      stopApi: () => kas.stopApiserver(),
      startApi: () => kas.startApiserver(),
      expireWatches: async () => {
        await mirror.idle();
        await kas.compact();
        await kas.restart();
      },
      kas,
      async stop() {
        mirror.close();
        await kas.stop();
      },
    };
  } catch (e) {
    await kas.stop();
    throw e;
  }
}
