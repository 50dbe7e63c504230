// Each kind's rules fire and resolve end to end: the real controller process (from source and as the
// compiled binary) against the simulator over HTTPS with a client certificate, and against a real kube-apiserver
// (test/support/cluster.ts: statuses written through /status, the controller as deploy/'s service account), read
// from cleaned_events.log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  crashLoopPod,
  deploymentZeroReady,
  healPod,
  nodeNotReady,
  nodeReady,
  oomKilledPod,
  seedHealthyCluster,
  warningEvent,
  type SeededCluster,
} from "../../src/sim/kit.ts";
import { CLUSTER_CASES, startCluster, type Cluster } from "../support/cluster.ts";
import { ControllerProcess, type LogLine } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

const RULE_ENV = {
  LEADER_ELECTION: "false",
  RULE_EVENT_MAX_AGE: "4s",
  RULE_POD_RESTART_WINDOW: "4s",
};

/** Every anomaly key's lines alternate firing/resolved: nothing is ever logged twice in a row. */
function assertNoDuplicates(lines: LogLine[]) {
  const last = new Map<string, string>();
  for (const l of lines) {
    const key = `${l.kind}/${l.namespace}/${l.name}/${l.reason}`;
    expect(`${key} ${last.get(key)}`).not.toBe(`${key} ${l.status}`);
    last.set(key, l.status);
  }
}

for (const { cluster: kind, flavor } of CLUSTER_CASES) {
  describe(`rules end to end (${kind}, ${flavor})`, () => {
    let cluster: Cluster;
    let seeded: SeededCluster;
    let ctl: ControllerProcess;

    beforeAll(async () => {
      cluster = await startCluster(kind);
      seeded = seedHealthyCluster(cluster.store, { nodes: 3, deployments: 4, replicasPerDeployment: 2 });
      await cluster.settle();
      ctl = await ControllerProcess.start(flavor, cluster.kubeconfig(), { ...RULE_ENV, ...cluster.env });
      await ctl.ready();
    });
    afterAll(async () => {
      await ctl?.stop();
      await cluster?.stop();
    });

    test("a healthy cluster logs nothing; headless and default/kubernetes services are not flagged", async () => {
      // the controller has evaluated everything (ready) and written at least once since
      await waitFor(async () => ((await ctl.metric("neurocontroller_events_processed_total")) ?? 0) > 0, { message: "events processed" });
      const before = await ctl.metric("neurocontroller_log_lines_written_total");
      expect(before ?? 0).toBe(0);
      expect(ctl.lines()).toEqual([]);
      expect(seeded.headlessService.name).toBeTruthy();
    });

    test("Pod: CrashLoopBackOff fires (with its BackOff event) and resolves when healed", async () => {
      const pod = seeded.deployments[1]!.pods[0]!;
      crashLoopPod(cluster.store, "default", pod);
      const fired = await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "firing" });
      expect(fired.node).toMatch(/^pi-node-/);
      expect(fired.message).toContain("CrashLoopBackOff");
      expect(fired.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      await ctl.line({ kind: "Pod", name: pod, reason: "BackOff", status: "firing" });
      healPod(cluster.store, "default", pod);
      const resolved = await ctl.line({ kind: "Pod", name: pod, reason: "CrashLoopBackOff", status: "resolved" });
      expect(resolved.eventTime).toBe(fired.eventTime);
      await ctl.line({ kind: "Pod", name: pod, reason: "BackOff", status: "resolved" }); // event aged out
    });

    test("Pod: init container stuck in CreateContainerConfigError fires and resolves", async () => {
      const pod = seeded.deployments[2]!.pods[0]!;
      cluster.store.patchStatus("pods", "default", pod, (status) => {
        status.initContainerStatuses = [
          {
            name: "migrate",
            ready: false,
            restartCount: 0,
            image: "migrate:1",
            state: { waiting: { reason: "CreateContainerConfigError", message: 'secret "db" not found' } },
          },
        ];
      });
      const fired = await ctl.line({ kind: "Pod", name: pod, reason: "CreateContainerConfigError", status: "firing" });
      expect(fired.message).toContain("Init container migrate is in CreateContainerConfigError");
      cluster.store.patchStatus("pods", "default", pod, (status) => {
        status.initContainerStatuses = [
          { name: "migrate", ready: true, restartCount: 0, image: "migrate:1", state: { terminated: { reason: "Completed", exitCode: 0 } } },
        ];
      });
      await ctl.line({ kind: "Pod", name: pod, reason: "CreateContainerConfigError", status: "resolved" });
    });

    test("Pod: OOMKilled in lastState fires and clears once older than the window", async () => {
      const pod = seeded.deployments[3]!.pods[1]!;
      oomKilledPod(cluster.store, "default", pod);
      await ctl.line({ kind: "Pod", name: pod, reason: "OOMKilled", status: "firing" });
      await ctl.line({ kind: "Pod", name: pod, reason: "OOMKilled", status: "resolved" });
    });

    test("Node: NotReady fires critical after its duration and resolves when Ready again", async () => {
      const node = seeded.nodes[2]!;
      nodeNotReady(cluster.store, node);
      const fired = await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "firing" });
      expect(fired.severity).toBe("critical");
      expect(fired.namespace).toBe("");
      expect(fired.node).toBe(node);
      nodeReady(cluster.store, node);
      await ctl.line({ kind: "Node", name: node, reason: "NodeNotReady", status: "resolved" });
    });

    test("Deployment + Service: zero ready replicas → UnreadyReplicaRatio and NoReadyAddress, resolved when pods recover", async () => {
      const dep = seeded.deployments[0]!;
      deploymentZeroReady(cluster.store, dep.namespace, dep.name);
      const ratio = await ctl.line({ kind: "Deployment", name: dep.name, reason: "UnreadyReplicaRatio", status: "firing" });
      expect(ratio.severity).toBe("critical");
      expect(ratio.message).toContain("100%"); // the actual ratio, not the threshold
      const ep = await ctl.line({ kind: "Endpoints", name: dep.service, reason: "NoReadyAddress", status: "firing" });
      expect(ep.severity).toBe("critical");
      expect(ep.category).toBe("Endpoint");
      for (const p of cluster.store.list("pods", dep.namespace).filter((p) => p.metadata.labels?.app === dep.name))
        healPod(cluster.store, dep.namespace, p.metadata.name);
      await ctl.line({ kind: "Endpoints", name: dep.service, reason: "NoReadyAddress", status: "resolved" });
      await ctl.line({ kind: "Deployment", name: dep.name, reason: "UnreadyReplicaRatio", status: "resolved" });
    });

    test("Event: only Warning events fire; a Normal one with the same reason does not", async () => {
      const pod = seeded.deployments[3]!.pods[0]!;
      warningEvent(cluster.store, {
        involvedObject: { kind: "Pod", name: pod, namespace: "default" },
        reason: "FailedMount",
        message: 'MountVolume.SetUp failed for volume "data": not found',
      });
      warningEvent(cluster.store, {
        involvedObject: { kind: "Pod", name: seeded.deployments[2]!.pods[1]!, namespace: "default" },
        reason: "FailedMount",
        message: "normal one",
        type: "Normal",
      });
      const fired = await ctl.line({ kind: "Pod", name: pod, reason: "FailedMount", status: "firing" });
      expect(fired.message).toContain("MountVolume.SetUp failed");
      await ctl.line({ kind: "Pod", name: pod, reason: "FailedMount", status: "resolved" });
      expect(ctl.lines().some((l) => l.name === seeded.deployments[2]!.pods[1]! && l.reason === "FailedMount")).toBe(false);
    });

    test("Job: Failed condition fires JobFailed; deleting the Job resolves it", async () => {
      cluster.store.create({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "backup", namespace: "default" },
        spec: { backoffLimit: 2, template: { spec: { containers: [{ name: "b", image: "backup:1" }], restartPolicy: "Never" } } },
        status: {
          failed: 3,
          conditions: [
            {
              type: "Failed",
              status: "True",
              reason: "BackoffLimitExceeded",
              message: "Job has reached the specified backoff limit",
              lastTransitionTime: cluster.store.timestamp(),
            },
          ],
        },
      });
      await ctl.line({ kind: "Job", name: "backup", reason: "JobFailed", status: "firing" });
      cluster.store.delete("jobs", "default", "backup");
      await ctl.line({ kind: "Job", name: "backup", reason: "JobFailed", status: "resolved" });
    });

    test("nothing logged twice; every line has the seed's fields in order; headless service never appears; no request refused", async () => {
      await cluster.settle();
      expect(ctl.stderr).not.toMatch(/\b403\b|forbidden/i);
      const lines = ctl.lines();
      assertNoDuplicates(lines);
      for (const l of lines) {
        expect(Object.keys(l)).toEqual([
          "time",
          "eventTime",
          "kind",
          "namespace",
          "name",
          "node",
          "reason",
          "message",
          "severity",
          "category",
          "status",
        ]);
        expect(["info", "warning", "critical"]).toContain(l.severity);
      }
      expect(lines.some((l) => l.name === seeded.headlessService.name)).toBe(false);
      expect(lines.some((l) => l.name === "kubernetes")).toBe(false);
    });
  });
}
