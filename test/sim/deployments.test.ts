// The simulator's Deployment controller (src/sim/deployments.ts), driven over HTTPS as kubectl would:
// a new template gets a ReplicaSet of its own and the next revision; old ReplicaSets keep serving until the
// new Pods are ready; restoring an old template re-uses its ReplicaSet with a bumped revision (rollout undo);
// the autoscaling/v1 Scale subresource reads and writes spec.replicas.
import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../../src/sim/index.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { api, start } from "./helpers.ts";

const DEP = "/apis/apps/v1/namespaces/default/deployments/web";
const rev = (o: { metadata: { annotations?: Record<string, string> } }) => o.metadata.annotations?.["deployment.kubernetes.io/revision"];

describe("simulator Deployment controller", () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function setup() {
    sim = await start();
    seedHealthyCluster(sim.store, { nodes: 2, deployments: 1, replicasPerDeployment: 2 });
    return api(sim);
  }
  const setImage = (k: ReturnType<typeof api>, image: string) =>
    k.json(DEP, {
      method: "PATCH",
      json: { spec: { template: { spec: { containers: [{ name: "web", image }] } } } },
      contentType: "application/strategic-merge-patch+json",
    });
  const sets = () =>
    sim!.store
      .list("replicasets", "default")
      .map((rs) => ({ image: rs.spec.template.spec.containers[0].image, revision: rev(rs), replicas: rs.spec.replicas, pods: rs.status?.replicas }))
      .sort((a, b) => Number(a.revision) - Number(b.revision));

  test("good image: revision 2 takes over; crash-looping image: revision 1 keeps serving; undo re-uses revision 1 as 3", async () => {
    const k = await setup();
    expect((await setImage(k, "ghcr.io/example/web:1.1.0")).status).toBe(200);
    expect(rev(sim!.store.get("deployments", "default", "web")!)).toBe("2");
    expect(sets()).toEqual([
      { image: "ghcr.io/example/web:1.0.0", revision: "1", replicas: 0, pods: 0 },
      { image: "ghcr.io/example/web:1.1.0", revision: "2", replicas: 2, pods: 2 },
    ]);

    await setImage(k, "ghcr.io/example/web:2.0.0-crashloop");
    expect(sets().at(-1)).toEqual({ image: "ghcr.io/example/web:2.0.0-crashloop", revision: "3", replicas: 2, pods: 2 });
    expect(sets().find((s) => s.revision === "2")).toMatchObject({ replicas: 2, pods: 2 }); // still serving
    const dep = sim!.store.get("deployments", "default", "web")!;
    expect(dep.status.updatedReplicas).toBe(2);
    expect(dep.status.readyReplicas).toBe(2);
    const crashing = sim!.store.list("pods", "default").filter((p) => p.spec.containers[0].image.includes("crashloop"));
    expect(crashing.map((p) => p.status.containerStatuses[0].state.waiting?.reason)).toEqual(["CrashLoopBackOff", "CrashLoopBackOff"]);

    await setImage(k, "ghcr.io/example/web:1.1.0"); // what rollout undo writes: the old template
    expect(rev(sim!.store.get("deployments", "default", "web")!)).toBe("4");
    expect(sets().map((s) => [s.image, s.revision, s.replicas])).toEqual([
      ["ghcr.io/example/web:1.0.0", "1", 0],
      ["ghcr.io/example/web:2.0.0-crashloop", "3", 0],
      ["ghcr.io/example/web:1.1.0", "4", 2],
    ]);
    expect(sim!.store.list("pods", "default").length).toBe(2);
  });

  test("deployments/scale: GET an autoscaling/v1 Scale, PUT and merge-PATCH set replicas, stale or invalid refused", async () => {
    const k = await setup();
    const s = await k.json(`${DEP}/scale`);
    expect(s.body).toMatchObject({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      spec: { replicas: 2 },
      status: { replicas: 2, selector: "app=web" },
    });
    const put = await k.json(`${DEP}/scale`, { method: "PUT", json: { ...s.body, spec: { replicas: 3 } } });
    expect(put.body.spec.replicas).toBe(3);
    expect(sim!.store.list("pods", "default").length).toBe(3);
    expect((await k.json(`${DEP}/scale`, { method: "PUT", json: { ...s.body, spec: { replicas: 4 } } })).status).toBe(409);
    const patch = await k.json(`${DEP}/scale`, { method: "PATCH", json: { spec: { replicas: 1 } }, contentType: "application/merge-patch+json" });
    expect(patch.body.spec.replicas).toBe(1);
    expect(sim!.store.list("pods", "default").length).toBe(1);
    expect(
      (await k.json(`${DEP}/scale`, { method: "PATCH", json: { spec: { replicas: -1 } }, contentType: "application/merge-patch+json" })).status,
    ).toBe(422);
    const discovery = await k.json("/apis/apps/v1");
    expect(discovery.body.resources.find((r: { name: string }) => r.name === "deployments/scale")).toMatchObject({
      group: "autoscaling",
      version: "v1",
      kind: "Scale",
    });
  });
});
