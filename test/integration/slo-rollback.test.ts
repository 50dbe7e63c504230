// Rollback of a bad rollout against the HTTPS simulator, with its Deployment controller (revisions,
// one ReplicaSet per template): a new image whose Pods crash-loop is rolled back once to the previous
// revision with SLO_MODE=on; with dry-run the same decision is announced and nothing is written; a
// Deployment annotated neurocontroller.io/rollback: "false" is left alone.
import { afterEach, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { command, ControllerProcess, FLAVORS } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";

/** The compiled binary when built (test/run.sh builds it), else the source. */
const flavor = FLAVORS.at(-1)!;
const SLO_ENV = { SLO_INTERVAL: "200ms", SLO_READINESS_GRACE: "1s", SLO_COOLDOWN: "0s" };

interface ActionLine {
  message: string;
  action: string;
  mode: string;
  step: string;
  target: string;
  reason: string;
}

function actions(ctl: ControllerProcess): ActionLine[] {
  return ctl.stderr
    .split("\n")
    .filter((l) => l.includes('"action '))
    .map((l) => JSON.parse(l) as ActionLine)
    .filter((l) => l.step === "rollback");
}

async function api(sim: Simulator, method: string, path: string, body?: unknown, contentType = "application/merge-patch+json") {
  const resp = await fetch(`${sim.url}${path}`, {
    method,
    headers: body ? { "Content-Type": contentType } : {},
    body: body ? JSON.stringify(body) : undefined,
    tls: { ca: sim.certs!.ca, cert: sim.certs!.cert, key: sim.certs!.key },
  } as RequestInit);
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${await resp.text()}`);
  return resp.json();
}

async function cli(args: string[], env: Record<string, string>) {
  const p = Bun.spawn(command("source", args), {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", LEADER_LEASE_NAMESPACE: "kube-system", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const depPath = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
const rollout = (sim: Simulator, ns: string, name: string, image: string) =>
  api(sim, "PATCH", depPath(ns, name), { spec: { template: { spec: { containers: [{ name, image }] } } } }, "application/strategic-merge-patch+json");

describe(`SLO rollback of a bad rollout (HTTPS simulator, ${flavor})`, () => {
  let sim: Simulator | undefined;
  let ctl: ControllerProcess | undefined;
  afterEach(async () => {
    await ctl?.stop();
    await sim?.stop();
    ctl = sim = undefined;
  });

  test("SLO_MODE=on: crash-looping revision 2 rolled back once to revision 1's template; the revision left is recorded", async () => {
    sim = await startSimulator();
    const seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 1, replicasPerDeployment: 2 });
    const { namespace: ns, name } = seeded.deployments[0]!;
    ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), { ...SLO_ENV, SLO_MODE: "on" });
    await ctl.ready();
    const good = sim.store.get("deployments", ns, name)!.spec.template.spec.containers[0].image;
    await rollout(sim, ns, name, "ghcr.io/example/web:2.0.0-crashloop");
    const bad = sim.store.list("replicasets", ns).find((rs) => rs.metadata.annotations?.["deployment.kubernetes.io/revision"] === "2")!;
    expect(bad.spec.template.spec.containers[0].image).toBe("ghcr.io/example/web:2.0.0-crashloop");

    const dep = await waitFor(
      () => {
        const d = sim!.store.get("deployments", ns, name)!;
        return d.spec.template.spec.containers[0].image === good ? d : undefined;
      },
      { timeoutMs: 20_000, message: () => `rollback (stderr: ${ctl!.stderr.slice(-2000)})` },
    );
    // As `kubectl rollout undo`: revision 1's ReplicaSet comes back as revision 3; the bad one is scaled to 0.
    expect(dep.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(dep.metadata.annotations?.["neurocontroller.io/rolled-back-from"]).toBe(bad.metadata.labels!["pod-template-hash"]);
    expect(dep.spec.template.metadata.labels["pod-template-hash"]).toBeUndefined();
    expect(sim.store.get("replicasets", ns, bad.metadata.name)!.spec.replicas).toBe(0);

    const done = await waitFor(() => actions(ctl!).find((a) => a.message.startsWith("action done")), { message: "the action record" });
    expect(done.message).toContain(`Deployment ${ns}/${name} rolled back from revision 2 to revision 1`);
    expect(done.reason).toContain("CrashLoopBackOff");
    expect(done.mode).toBe("on");
    // Further ticks (each reads the pause ConfigMap) see the restored revision healthy: no second rollback.
    const before = sim.stats().requests;
    await waitFor(() => sim!.stats().requests > before + 40, { timeoutMs: 20_000, message: "more controller requests" });
    expect(actions(ctl).length).toBe(1);
    expect(sim.store.get("deployments", ns, name)!.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
  }, 60_000);

  test("SLO_MODE=dry-run: the same decision announced, no write (resourceVersions unchanged); opted-out Deployment ignored", async () => {
    sim = await startSimulator();
    const seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 2, replicasPerDeployment: 2 });
    const [a, b] = seeded.deployments;
    await api(sim, "PATCH", depPath(b!.namespace, b!.name), { metadata: { annotations: { "neurocontroller.io/rollback": "false" } } });
    ctl = await ControllerProcess.start("source", sim.kubeconfig(), { ...SLO_ENV, SLO_MODE: "dry-run" });
    await ctl.ready();
    await rollout(sim, b!.namespace, b!.name, "ghcr.io/example/b:2.0.0-crashloop");
    await rollout(sim, a!.namespace, a!.name, "ghcr.io/example/a:2.0.0-crashloop");
    const rvs = () =>
      [...sim!.store.list("deployments"), ...sim!.store.list("replicasets")].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
    const frozen = rvs();

    const planned = await waitFor(() => actions(ctl!).find((x) => x.message.startsWith("action planned")), {
      timeoutMs: 20_000,
      message: () => `dry-run decision (stderr: ${ctl!.stderr.slice(-2000)})`,
    });
    expect(planned.mode).toBe("dry-run");
    expect(planned.message).toContain(`Deployment ${a!.namespace}/${a!.name} would be rolled back from revision 2 to revision 1`);
    expect(planned.reason).toContain("CrashLoopBackOff");
    const before = sim.stats().requests;
    await waitFor(() => sim!.stats().requests > before + 40, { timeoutMs: 20_000, message: "more controller requests" });
    expect(rvs()).toEqual(frozen);
    expect(actions(ctl).map((x) => x.target)).toEqual([`Deployment ${a!.namespace}/${a!.name}`]);
  }, 60_000);

  test("slo pause holds the rollback (recorded once, shown by slo status); slo resume lets it happen", async () => {
    sim = await startSimulator();
    const seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 1, replicasPerDeployment: 2 });
    const { namespace: ns, name } = seeded.deployments[0]!;
    ctl = await ControllerProcess.start("source", sim.kubeconfig(), { ...SLO_ENV, SLO_MODE: "on" });
    await ctl.ready();
    const env = { NEURO_HTTP_ADDR: `127.0.0.1:${ctl.port}` };
    const paused = await cli(["slo", "pause", "--kubeconfig", sim.kubeconfig(), "--author", "ops@pi"], env);
    expect(paused.out).toContain("SLO actions paused (ConfigMap kube-system/neurocontroller-slo)");
    await waitFor(() => ctl!.stderr.includes("SLO actions paused by ops@pi"), {
      message: () => `pause recorded (stderr: ${ctl!.stderr.slice(-1500)})`,
    });
    await rollout(sim, ns, name, "ghcr.io/example/web:2.0.0-crashloop");
    const before = sim.stats().requests;
    await waitFor(() => sim!.stats().requests > before + 40, { timeoutMs: 20_000, message: "more controller requests" });
    expect(sim.store.get("deployments", ns, name)!.spec.template.spec.containers[0].image).toBe("ghcr.io/example/web:2.0.0-crashloop");
    expect(actions(ctl)).toEqual([]);
    const status = await cli(["slo", "status", "--json"], env);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.out);
    expect(s.mode).toBe("on");
    expect(s.paused.by).toBe("ops@pi");
    expect(s.actions.map((a: { step: string }) => a.step)).toEqual(["pause"]);

    expect((await cli(["slo", "resume", "--kubeconfig", sim.kubeconfig()], env)).out).toContain("SLO actions resumed");
    await waitFor(() => sim!.store.get("deployments", ns, name)!.spec.template.spec.containers[0].image === "ghcr.io/example/web:1.0.0", {
      timeoutMs: 20_000,
      message: () => `rollback after resume (stderr: ${ctl!.stderr.slice(-1500)})`,
    });
    const text = await cli(["slo", "status"], env);
    expect(text.out).toContain("SLO_MODE on · active");
    expect(text.out).toContain("rolled back from revision 2 to revision 1");
    expect(ctl.stderr.split("\n").filter((l) => l.includes("SLO actions paused by")).length).toBe(1);
  }, 90_000);

  test("leader only: of two controllers only the one holding the Lease rolls back, once", async () => {
    sim = await startSimulator();
    const seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 1, replicasPerDeployment: 2 });
    const { namespace: ns, name } = seeded.deployments[0]!;
    ctl = await ControllerProcess.start("source", sim.kubeconfig(), { ...SLO_ENV, SLO_MODE: "on", LEADER_IDENTITY: "ctl-a" });
    const other = await ControllerProcess.start("source", sim.kubeconfig(), { ...SLO_ENV, SLO_MODE: "on", LEADER_IDENTITY: "ctl-b" });
    try {
      await Promise.all([ctl.ready(), other.ready()]);
      const holder = await waitFor(() => sim!.store.get("leases", "kube-system", "neurocontroller")?.spec?.holderIdentity, { message: "a leader" });
      await rollout(sim, ns, name, "ghcr.io/example/web:2.0.0-crashloop");
      await waitFor(() => sim!.store.get("deployments", ns, name)!.metadata.annotations?.["deployment.kubernetes.io/revision"] === "3", {
        timeoutMs: 20_000,
        message: "rollback",
      });
      const before = sim.stats().requests;
      await waitFor(() => sim!.stats().requests > before + 60, { timeoutMs: 20_000, message: "more controller requests" });
      const leader = holder === "ctl-a" ? ctl : other;
      const standby = holder === "ctl-a" ? other : ctl;
      expect(actions(leader).map((a) => a.message.split(":")[0])).toEqual(["action done"]);
      expect(actions(standby)).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 90_000);
});
