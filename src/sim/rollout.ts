// A rolling update that cannot finish, as kube-controller-manager leaves it: the Deployment's new
// ReplicaSet (next revision) has surged one Pod that never becomes ready (its image does not exist),
// the old ReplicaSet keeps every replica (maxUnavailable rounds down to 0), and the progress deadline
// has passed. Status counts then span two revisions: what a message about the Deployment must not blur.
import type { KubeObject } from "../kube/types.ts";
import { syncDeployment, syncReplicaSet } from "./controllers.ts";
import { imagePullBackOff } from "./injectors.ts";
import { suffix, templateHash } from "./naming.ts";
import { replicaPod } from "./scenarios.ts";
import type { SimStore } from "./store.ts";

const REVISION = "deployment.kubernetes.io/revision";

export function stuckRollout(store: SimStore, ns: string, name: string, opts: { image?: string } = {}): KubeObject {
  const dep = store.get("deployments", ns, name);
  if (!dep) throw new Error(`sim: deployment ${ns}/${name} not found`);
  const revision = String(Number(dep.metadata.annotations?.[REVISION] ?? "1") + 1);
  const containers = (dep.spec.template.spec.containers as { name: string; image: string }[]).map((c, i) =>
    i === 0 ? { ...c, image: opts.image ?? `${c.image.replace(/:[^:/]*$/, "")}:does-not-exist` } : c,
  );
  const updated = store.mutate("deployments", ns, name, (d) => {
    d.metadata.annotations = { ...d.metadata.annotations, [REVISION]: revision };
    d.spec.template = { ...d.spec.template, spec: { ...d.spec.template.spec, containers } };
  });
  const hash = templateHash(`${ns}/${name}/${revision}`);
  const labels = { ...dep.spec.template.metadata.labels, "pod-template-hash": hash };
  const rs = store.create({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${name}-${hash}`,
      namespace: ns,
      labels,
      annotations: { [REVISION]: revision, "deployment.kubernetes.io/desired-replicas": String(dep.spec.replicas ?? 1) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: updated.metadata.uid!, controller: true }],
    },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { ...dep.spec.template.spec, containers } } },
    status: {},
  });
  const podName = `${rs.metadata.name}-${suffix(`${ns}/${rs.metadata.name}/0`)}`;
  store.create(replicaPod(store, rs, podName, 0, store.count("pods")));
  imagePullBackOff(store, ns, podName, { image: containers[0]!.image });
  syncReplicaSet(store, ns, rs.metadata.name);
  const now = store.timestamp();
  store.patchStatus("deployments", ns, name, (s) => {
    s.conditions = [
      ...(s.conditions ?? []).filter((c: { type: string }) => c.type !== "Progressing"),
      {
        type: "Progressing",
        status: "False",
        reason: "ProgressDeadlineExceeded",
        message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.`,
        lastUpdateTime: now,
        lastTransitionTime: now,
      },
    ];
  });
  syncDeployment(store, ns, name);
  return store.get("deployments", ns, name)!;
}
