// Arbitraries for the watched kinds: objects as the Kubernetes API types allow them (every field the
// rules read, each optional, with the API's types; strings from small vocabularies so rules actually
// fire), passed through the boundary (checkObject) like anything the informers cache.
import { IGNORE_REJECTS } from "../../src/boundary/reject.ts";
import { truncateLongStrings } from "../../src/kube/bounds.ts";
import { checkObject } from "../../src/kube/schemas.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { fc } from "./support.ts";

/** The instant rules are evaluated at; object timestamps lie around it. */
export const FUZZ_NOW = Date.parse("2026-06-01T12:00:00Z");

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const small = fc.nat({ max: 12 });
const name = fc.constantFrom("web", "db", "a", "node-1", "node-2", "x".repeat(70), "ünï");
/** A string field as a broken server may send it: mostly right, sometimes a number or an object (not checked at the boundary). */
const looseName = fc.oneof({ weight: 6, arbitrary: name }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant({ o: 1 }), fc.boolean()) });
const namespace = fc.constantFrom("default", "shop", "kube-system");
const text = fc.oneof(fc.constantFrom("", " ", "Back-off restarting", "timeout"), fc.string({ maxLength: 30 }));
/** RFC 3339 within 3 days before now (sometimes a little after), or a malformed time string. */
const time = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -3 * 86_400_000, max: 60_000 }).map((d) => new Date(FUZZ_NOW + d).toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom("", "yesterday", "2026-13-45T99:99:99Z", "0001-01-01T00:00:00Z") },
);
const status3 = fc.constantFrom("True", "False", "Unknown");
const condition = (types: string[], reasons: string[] = []) =>
  fc.record(
    {
      type: fc.constantFrom(...types),
      status: status3,
      reason: opt(fc.constantFrom(...reasons, "Whatever")),
      message: opt(text),
      lastTransitionTime: opt(time),
      lastUpdateTime: opt(time),
      lastHeartbeatTime: opt(time),
    },
    { requiredKeys: ["type", "status"] },
  );
const conditions = (types: string[], reasons: string[] = []) => opt(fc.array(condition(types, reasons), { maxLength: 4 }));

const ownerRef = fc.record({
  apiVersion: fc.constant("apps/v1"),
  kind: fc.constantFrom("ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job"),
  name,
  uid: fc.constant("u"),
  controller: opt(fc.boolean()),
});
const meta = (namespaced: boolean) =>
  fc.record(
    {
      name,
      namespace: namespaced ? namespace : fc.constant(undefined),
      uid: fc.uuid(),
      resourceVersion: small.map(String),
      generation: opt(small),
      creationTimestamp: opt(time),
      deletionTimestamp: opt(time),
      labels: opt(fc.dictionary(fc.constantFrom("app", "pod-template-hash", "kubernetes.io/service-name"), name, { maxKeys: 3 })),
      annotations: opt(fc.dictionary(fc.constantFrom("endpoints.kubernetes.io/last-change-trigger-time", "note"), time, { maxKeys: 2 })),
      ownerReferences: opt(fc.array(ownerRef, { maxLength: 2 })),
      finalizers: opt(fc.array(fc.constantFrom("kubernetes.io/pvc-protection", "x/y"), { maxLength: 2 })),
    },
    { requiredKeys: ["name", "uid", "resourceVersion"] },
  );

const waiting = fc.record(
  {
    reason: opt(fc.constantFrom("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ContainerCreating", "CreateContainerConfigError")),
    message: opt(text),
  },
  { requiredKeys: [] },
);
const terminated = fc.record(
  {
    reason: opt(fc.constantFrom("OOMKilled", "Error", "Completed", "StartError")),
    exitCode: opt(fc.integer({ min: 0, max: 255 })),
    finishedAt: opt(time),
    startedAt: opt(time),
  },
  { requiredKeys: [] },
);
const state = fc.record(
  { waiting: opt(waiting), running: opt(fc.record({ startedAt: opt(time) }, { requiredKeys: [] })), terminated: opt(terminated) },
  { requiredKeys: [] },
);
const containerStatus = fc.record(
  { name, ready: opt(fc.boolean()), restartCount: opt(small), state: opt(state), lastState: opt(state) },
  { requiredKeys: ["name"] },
);

const pod = fc.record({
  metadata: meta(true),
  spec: opt(fc.record({ nodeName: opt(looseName), containers: fc.constant([{ name: "c", image: "i" }]) }, { requiredKeys: [] })),
  status: opt(
    fc.record(
      {
        phase: opt(fc.constantFrom("Pending", "Running", "Succeeded", "Failed", "Unknown")),
        reason: opt(fc.constantFrom("Evicted", "NodeLost", "")),
        message: opt(text),
        conditions: conditions(["Ready", "ContainersReady", "Initialized", "PodScheduled", "DisruptionTarget"], ["Unschedulable"]),
        containerStatuses: opt(fc.array(containerStatus, { maxLength: 3 })),
        initContainerStatuses: opt(fc.array(containerStatus, { maxLength: 2 })),
      },
      { requiredKeys: [] },
    ),
  ),
});
const node = fc.record({
  metadata: meta(false),
  spec: opt(
    fc.record(
      {
        unschedulable: opt(fc.boolean()),
        taints: opt(
          fc.array(
            fc.record(
              { key: fc.constantFrom("node.kubernetes.io/unschedulable", "x"), effect: fc.constant("NoSchedule"), timeAdded: opt(time) },
              { requiredKeys: ["key", "effect"] },
            ),
            { maxLength: 2 },
          ),
        ),
      },
      { requiredKeys: [] },
    ),
  ),
  status: opt(
    fc.record({ conditions: conditions(["Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"]) }, { requiredKeys: [] }),
  ),
});
const workloadStatus = fc.record(
  {
    replicas: opt(small),
    readyReplicas: opt(small),
    availableReplicas: opt(small),
    updatedReplicas: opt(small),
    unavailableReplicas: opt(small),
    observedGeneration: opt(small),
    desiredNumberScheduled: opt(small),
    currentNumberScheduled: opt(small),
    numberReady: opt(small),
    numberAvailable: opt(small),
    numberUnavailable: opt(small),
    numberMisscheduled: opt(small),
    conditions: conditions(["Available", "Progressing", "ReplicaFailure"], ["ProgressDeadlineExceeded", "MinimumReplicasUnavailable"]),
  },
  { requiredKeys: [] },
);
const workload = fc.record({
  metadata: meta(true),
  spec: opt(fc.record({ replicas: opt(small), selector: opt(fc.constant({ matchLabels: { app: "web" } })) }, { requiredKeys: [] })),
  status: opt(workloadStatus),
});
const job = fc.record({
  metadata: meta(true),
  spec: opt(fc.record({ backoffLimit: opt(small), activeDeadlineSeconds: opt(small), completions: opt(small) }, { requiredKeys: [] })),
  status: opt(
    fc.record(
      {
        failed: opt(small),
        succeeded: opt(small),
        active: opt(small),
        conditions: conditions(["Failed", "Complete", "SuccessCriteriaMet"], ["BackoffLimitExceeded", "DeadlineExceeded"]),
      },
      { requiredKeys: [] },
    ),
  ),
});
const service = fc.record({
  metadata: meta(true),
  spec: opt(
    fc.record(
      {
        type: opt(fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")),
        clusterIP: opt(fc.constantFrom("10.0.0.1", "None")),
        selector: opt(fc.dictionary(fc.constantFrom("app", "tier"), name, { maxKeys: 2 })),
      },
      { requiredKeys: [] },
    ),
  ),
});
const endpointSlice = fc.record({
  metadata: meta(true),
  addressType: fc.constantFrom("IPv4", "IPv6"),
  endpoints: fc.option(
    fc.array(
      fc.record(
        {
          addresses: fc.array(fc.ipV4(), { maxLength: 2 }),
          conditions: opt(fc.record({ ready: fc.option(fc.boolean()) }, { requiredKeys: [] })),
          targetRef: opt(fc.record({ kind: fc.constant("Pod"), name })),
        },
        { requiredKeys: ["addresses"] },
      ),
      { maxLength: 3 },
    ),
  ),
});
const endpoints = fc.record({
  metadata: meta(true),
  subsets: opt(
    fc.array(
      fc.record(
        {
          addresses: opt(fc.array(fc.record({ ip: fc.ipV4() }), { maxLength: 2 })),
          notReadyAddresses: opt(fc.array(fc.record({ ip: fc.ipV4() }), { maxLength: 2 })),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
  ),
});
const event = fc.record({
  metadata: meta(true),
  type: fc.constantFrom("Warning", "Normal"),
  reason: fc.constantFrom("BackOff", "Unhealthy", "FailedScheduling", "FailedMount", "Failed", "Pulled", "FailedCreatePodSandBox"),
  message: opt(text),
  count: opt(fc.integer({ min: 1, max: 500 })),
  firstTimestamp: opt(time),
  lastTimestamp: opt(time),
  eventTime: opt(time),
  series: opt(fc.record({ count: opt(fc.integer({ min: 1, max: 500 })), lastObservedTime: opt(time) }, { requiredKeys: [] })),
  involvedObject: fc.record(
    { kind: fc.constantFrom("Pod", "Node", "Deployment"), name: looseName, namespace: opt(namespace) },
    { requiredKeys: ["kind", "name"] },
  ),
  source: opt(fc.record({ host: opt(looseName), component: opt(fc.constant("kubelet")) }, { requiredKeys: [] })),
});

/** Generated objects per served kind (the kinds the evaluator's caches are keyed by). */
export const KIND_ARBITRARIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  Node: node,
  Pod: pod,
  ReplicaSet: workload,
  Deployment: workload,
  StatefulSet: workload,
  DaemonSet: workload,
  Job: job,
  Service: service,
  EndpointSlice: endpointSlice,
  Endpoints: endpoints,
  Event: event,
};

/** Through the boundary, as the informers would cache it (the generators only make valid metadata). */
export function admitted(kind: string, raw: Record<string, unknown>): KubeObject {
  const obj = checkObject(structuredClone(raw), `kube.${kind}`, IGNORE_REJECTS);
  if (!obj) throw new Error(`generator for ${kind} made an object the boundary refuses: ${JSON.stringify(raw)}`);
  truncateLongStrings(obj);
  return obj;
}

/** A small cluster: up to 8 objects, each of any watched kind, as [kind, object] pairs. */
export const cluster = fc.array(fc.oneof(...Object.entries(KIND_ARBITRARIES).map(([k, a]) => fc.tuple(fc.constant(k), a))), {
  minLength: 1,
  maxLength: 8,
});
