// The healthy K3s-like cluster every scenario starts from, and the node/pod builders the injectors reuse.
// Pure functions of the store (no HTTP). Tests, the demo and benchmarks import them through kit.ts.
import type { KubeObject, OwnerReference } from "../kube/types.ts";
import { syncReplicaSet, syncService } from "./controllers.ts";
import { nodeIP, podIP, serviceIP, suffix, templateHash } from "./naming.ts";
import type { SimStore } from "./store.ts";

export interface SeedOptions {
  nodes?: number;
  deployments?: number;
  replicasPerDeployment?: number;
  /** Namespaces the deployments are spread over, round-robin (default ["default"]). */
  namespaces?: string[];
}

export interface SeededDeployment {
  namespace: string;
  name: string;
  replicaSet: string;
  pods: string[];
  service: string;
}

export interface SeededCluster {
  nodes: string[];
  deployments: SeededDeployment[];
  headlessService: { namespace: string; name: string };
}

const APP_NAMES = ["web", "api", "worker", "cache", "db", "queue", "auth", "search", "metrics", "gateway"];
export const K3S_VERSION = "v1.31.0+k3s1";

// OwnerReference in kube/types.ts omits blockOwnerDeletion; the wire object carries it like the real controllers'.
function controllerRef(kind: string, name: string, uid: string): OwnerReference {
  return { apiVersion: "apps/v1", kind, name, uid, controller: true, blockOwnerDeletion: true } as OwnerReference;
}

export function appName(i: number): string {
  const base = APP_NAMES[i % APP_NAMES.length]!;
  return i < APP_NAMES.length ? base : `${base}-${Math.floor(i / APP_NAMES.length)}`;
}

export function nodeName(i: number): string {
  return `pi-node-${i + 1}`;
}

function healthyNodeConditions(now: string) {
  const c = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return [
    c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    c("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
  ];
}

export function nodeObject(store: SimStore, i: number): KubeObject {
  const name = nodeName(i);
  const now = store.timestamp();
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "arm64",
    "beta.kubernetes.io/instance-type": "k3s",
  };
  if (i === 0) Object.assign(labels, { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels, annotations: { "k3s.io/node-args": "[]" } },
    spec: { podCIDR: `10.42.${i}.0/24`, podCIDRs: [`10.42.${i}.0/24`], providerID: `k3s://${name}` },
    status: {
      conditions: healthyNodeConditions(now),
      addresses: [
        { type: "InternalIP", address: nodeIP(i) },
        { type: "Hostname", address: name },
      ],
      capacity: { cpu: "4", memory: "8131532Ki", pods: "110", "ephemeral-storage": "61255492Ki" },
      allocatable: { cpu: "4", memory: "8131532Ki", pods: "110", "ephemeral-storage": "59588420001" },
      nodeInfo: {
        architecture: "arm64",
        operatingSystem: "linux",
        osImage: "Debian GNU/Linux 12 (bookworm)",
        kernelVersion: "6.6.31+rpt-rpi-v8",
        kubeletVersion: K3S_VERSION,
        kubeProxyVersion: K3S_VERSION,
        containerRuntimeVersion: "containerd://1.7.20-k3s1",
      },
    },
  };
}

/** A Running, Ready pod as the kubelet reports it. */
export function runningPodStatus(store: SimStore, containers: { name: string; image: string }[], node: number, ipIndex: number, uidSeed: string) {
  const now = store.timestamp();
  const cond = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
  return {
    phase: "Running",
    conditions: [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
    hostIP: nodeIP(node),
    podIP: podIP(node, ipIndex),
    podIPs: [{ ip: podIP(node, ipIndex) }],
    startTime: now,
    qosClass: "Burstable",
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: `docker.io/library/${c.image}@sha256:${suffix(c.image, 8)}`,
      containerID: `containerd://${suffix(`${uidSeed}/${c.name}`, 12)}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
      lastState: {},
    })),
  };
}

function ensureNamespace(store: SimStore, name: string): void {
  if (store.get("namespaces", undefined, name)) return;
  store.create({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  });
}

function service(
  ns: string,
  name: string,
  selector: Record<string, string> | undefined,
  clusterIP: string,
  port: number,
  targetPort: number,
): KubeObject {
  const labels: Record<string, string> = selector ? { app: selector.app! } : { component: "apiserver", provider: "kubernetes" };
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels },
    spec: {
      type: "ClusterIP",
      clusterIP,
      clusterIPs: [clusterIP],
      ...(selector ? { selector } : {}),
      ports: [{ name: port === 443 ? "https" : "http", port, targetPort, protocol: "TCP" }],
      sessionAffinity: "None",
    },
    status: { loadBalancer: {} },
  };
}

function seedKubernetesService(store: SimStore): void {
  if (store.get("services", "default", "kubernetes")) return;
  store.create(service("default", "kubernetes", undefined, "10.43.0.1", 443, 6443));
  const ports = [{ name: "https", port: 6443, protocol: "TCP" }];
  store.create({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
    subsets: [{ addresses: [{ ip: nodeIP(0) }], ports }],
  });
  store.create({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
    addressType: "IPv4",
    endpoints: [{ addresses: [nodeIP(0)], conditions: { ready: true, serving: true, terminating: false } }],
    ports,
  });
}

/**
 * Nodes (Ready) → Deployments → ReplicaSets → Pods (Running, Ready), each Deployment with a Service,
 * Endpoints and EndpointSlice; plus default/kubernetes and one headless Service. Idempotent per name.
 */
export function seedHealthyCluster(store: SimStore, opts: SeedOptions = {}): SeededCluster {
  const nodes = opts.nodes ?? 3;
  const deployments = opts.deployments ?? 4;
  const replicas = opts.replicasPerDeployment ?? 2;
  const namespaces = opts.namespaces?.length ? opts.namespaces : ["default"];
  for (const ns of new Set(["default", "kube-system", "kube-public", "kube-node-lease", ...namespaces])) ensureNamespace(store, ns);
  const nodeNames: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const n = nodeObject(store, i);
    if (!store.get("nodes", undefined, n.metadata.name)) store.create(n);
    nodeNames.push(n.metadata.name);
  }
  seedKubernetesService(store);
  const out: SeededDeployment[] = [];
  let podCounter = store.count("pods");
  for (let d = 0; d < deployments; d++) {
    const ns = namespaces[d % namespaces.length]!;
    const name = appName(d);
    const hash = templateHash(`${ns}/${name}`);
    const labels = { app: name };
    const containers = [{ name, image: `ghcr.io/example/${name}:1.0.0`, ports: [{ containerPort: 8080, protocol: "TCP" }] }];
    const template = { metadata: { labels }, spec: { containers } };
    const dep = store.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels, annotations: { "deployment.kubernetes.io/revision": "1" } },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      },
      status: {},
    });
    const rsName = `${name}-${hash}`;
    const rsLabels = { ...labels, "pod-template-hash": hash };
    const rs = store.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: rsName,
        namespace: ns,
        labels: rsLabels,
        annotations: { "deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": String(replicas) },
        ownerReferences: [controllerRef("Deployment", name, dep.metadata.uid!)],
      },
      spec: { replicas, selector: { matchLabels: rsLabels }, template: { metadata: { labels: rsLabels }, spec: { containers } } },
      status: {},
    });
    const pods: string[] = [];
    for (let r = 0; r < replicas; r++) {
      const podName = `${rsName}-${suffix(`${ns}/${rsName}/${r}`)}`;
      const node = podCounter % nodes;
      store.create(replicaPod(store, rs, podName, node, podCounter++));
      pods.push(podName);
    }
    syncReplicaSet(store, ns, rsName);
    store.create(service(ns, name, labels, serviceIP(d + 1), 80, 8080));
    syncService(store, ns, name);
    out.push({ namespace: ns, name, replicaSet: rsName, pods, service: name });
  }
  const first = out[0];
  const headless = { namespace: first?.namespace ?? "default", name: `${first?.name ?? "web"}-headless` };
  if (!store.get("services", headless.namespace, headless.name)) {
    const svc = service(headless.namespace, headless.name, { app: first?.name ?? "web" }, "None", 8080, 8080);
    svc.spec.clusterIPs = ["None"];
    store.create(svc);
    syncService(store, headless.namespace, headless.name);
  }
  return { nodes: nodeNames, deployments: out, headlessService: headless };
}

/** A pod as its ReplicaSet would create it, already scheduled and Running. */
export function replicaPod(store: SimStore, rs: KubeObject, name: string, node: number, ipIndex: number): KubeObject {
  const containers = rs.spec.template.spec.containers;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: rs.metadata.namespace,
      labels: { ...rs.spec.template.metadata.labels },
      ownerReferences: [controllerRef("ReplicaSet", rs.metadata.name, rs.metadata.uid!)],
    },
    spec: { nodeName: nodeName(node), containers, restartPolicy: "Always", schedulerName: "default-scheduler", serviceAccountName: "default" },
    status: runningPodStatus(store, containers, node, ipIndex, name),
  };
}
