// Bounded scaling from an SLO policy, written over HTTPS to the simulator's deployments/scale subresource.
// Traffic is OTLP/JSON posted to the controller's real OTLP intake, which feeds its real RED windows
// (test/support/otlp-fed-red.ts); the test chooses the spans' end times and the engine's clock, so windows of
// minutes pass in no time: a p99 above the objective in the short window only does
// nothing; once both windows agree the Deployment gets one step more; comfortably met for the stabilisation
// window it steps back down; a Deployment an HPA targets is never scaled (said once); dry-run writes nothing.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { ActionJournal } from "../../src/actions/journal.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { fromKubeconfigFile } from "../../src/kube/kubeconfig.ts";
import { silentLogger } from "../../src/log.ts";
import type { ActionRecord } from "../../src/model/action.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { ActionLimits } from "../../src/slo/limits.ts";
import { PolicySchema } from "../../src/slo/policy.ts";
import type { SloMode } from "../../src/slo/rollback-engine.ts";
import { ScaleEngine } from "../../src/slo/scale-engine.ts";
import { SloService } from "../../src/slo/service.ts";
import { Config } from "../../src/config/load.ts";
import { ActionHistory } from "../../src/store/action-history.ts";
import { OtlpFedRed } from "../support/otlp-fed-red.ts";

const MIN = 60_000;
const T0 = Date.parse("2026-12-04T10:00:00Z");

function policy(deployment: string) {
  return PolicySchema.parse({
    name: `${deployment}-latency`,
    namespace: "default",
    deployment,
    objectives: { latency: { quantile: 0.99, thresholdMs: 300 } },
    burnRates: [{ long: "30m", short: "5m", factor: 1 }],
    actions: ["scale"],
    scale: { min: 2, max: 4, step: 1, stabilization: "10m" },
  });
}

describe("SLO scaling through deployments/scale (HTTPS simulator)", () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function setup(mode: SloMode) {
    sim = await startSimulator();
    seedHealthyCluster(sim.store, { nodes: 2, deployments: 2, replicasPerDeployment: 2 });
    const client = new KubeClient(fromKubeconfigFile(sim.kubeconfig()));
    const told: ActionRecord[] = [];
    const journal = new ActionJournal(new ActionHistory(new Database(":memory:")), silentLogger);
    journal.listen((r) => void told.push(r));
    const red = new OtlpFedRed();
    let now = T0;
    const store = sim.store;
    const engine = new ScaleEngine({
      client,
      objects: { list: (kind, ns) => store.list(kind === "Deployment" ? "deployments" : kind, ns) },
      journal,
      limits: new ActionLimits(2 * MIN, 20),
      logger: silentLogger,
      red,
      mode: () => mode,
      now: () => now,
    });
    return { engine, red, told, store, advance: (ms: number) => (now += ms), at: () => now };
  }

  const replicas = (name: string) => sim!.store.get("deployments", "default", name)!.spec.replicas;
  const key = (name: string) => ({ service: name, namespace: "default", deployment: name });

  test("burn in both windows → up by one step; comfortably met for the stabilisation window → back down", async () => {
    const { engine, red, told, advance, at } = await setup("on");
    const web = key("web");
    await red.traffic(web, T0 - 30 * MIN, T0, 10_000, 50); // healthy half an hour
    await red.traffic(web, T0 - 5 * MIN, T0, 30, 900); // 30 slow ones lately: 1.8% of the short window, 0.3% of the long one
    await engine.tick([policy("web")]);
    expect(replicas("web")).toBe(2);
    expect(told).toEqual([]);

    advance(15 * MIN);
    await red.traffic(web, at() - 15 * MIN, at(), 800, 900); // slow long enough for the 30m window's p99 too
    await engine.tick([policy("web")]);
    expect(replicas("web")).toBe(3);
    expect(told.map((r) => [r.step, r.outcome, r.mode])).toEqual([["scale-up", "done", "on"]]);
    expect(told[0]!.summary).toBe("Deployment default/web scaled up from 2 to 3 replicas (policy web-latency)");
    // every request took 900 ms; the RED windows' histograms answer within their 6.25 % bound
    const [p30, p5] = /^p99 (\d+) ms over 30m and (\d+) ms over 5m \(objective 300 ms\)/.exec(told[0]!.reason)!.slice(1).map(Number);
    for (const p of [p30!, p5!]) expect(Math.abs(p - 900) / 900).toBeLessThanOrEqual(0.0625);
    expect(sim!.store.list("pods", "default").filter((p) => p.metadata.labels?.app === "web").length).toBe(3);

    advance(30 * MIN);
    await red.traffic(web, at() - 30 * MIN, at(), 1000, 40); // fast for the last half hour
    await engine.tick([policy("web")]);
    expect(replicas("web")).toBe(2);
    expect(told.map((r) => `${r.step}:${r.detail?.from}->${r.detail?.to}`)).toEqual(["scale-up:2->3", "scale-down:3->2"]);
    expect(told[1]!.reason).toContain("objectives comfortably met over 10m");
    await engine.tick([policy("web")]); // at min: nothing more
    expect(told.length).toBe(2);
  }, 30_000);

  test("an HPA-targeted Deployment is never scaled, said once; dry-run decides the same and writes nothing", async () => {
    const { engine, red, told, store, advance, at } = await setup("dry-run");
    store.create({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "api", namespace: "default" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" }, minReplicas: 1, maxReplicas: 5 },
    });
    for (const name of ["web", "api"]) await red.traffic(key(name), T0 - 30 * MIN, T0, 1000, 900);
    const rvs = () => store.list("deployments", "default").map((d) => `${d.metadata.name}@${d.metadata.resourceVersion}`);
    const before = rvs();
    for (let i = 0; i < 3; i++) {
      await engine.tick([policy("web"), policy("api")]);
      advance(MIN);
      for (const name of ["web", "api"]) await red.traffic(key(name), at() - MIN, at(), 50, 900);
    }
    expect(rvs()).toEqual(before);
    expect(replicas("api")).toBe(2);
    const api = told.filter((r) => r.target.name === "api");
    expect(api.map((r) => [r.outcome, r.summary])).toEqual([
      ["refused", "Deployment default/api not scaled: HorizontalPodAutoscaler default/api targets it (said once)"],
    ]);
    const web = told.filter((r) => r.target.name === "web");
    expect(web.map((r) => [r.mode, r.outcome, r.summary])).toEqual([
      ["dry-run", "planned", "dry-run: Deployment default/web would be scaled from 2 to 3 replicas (policy web-latency)"],
    ]);
  }, 30_000);

  test("SloService: YAML policies from the ConfigMap drive the scaler; an invalid one is refused with its field and counted", async () => {
    sim = await startSimulator();
    seedHealthyCluster(sim.store, { nodes: 2, deployments: 1, replicasPerDeployment: 2 });
    sim.store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "neurocontroller-slo-policies", namespace: "kube-system" },
      data: {
        "web.yaml":
          "policies:\n  - name: web-p99\n    namespace: default\n    deployment: web\n    objectives: { latency: { thresholdMs: 300 } }\n" +
          "    burnRates: [{ long: 30m, short: 5m, factor: 1 }]\n    actions: [scale]\n    scale: { min: 2, max: 3 }\n",
        "bad.yaml": "policies:\n  - name: api\n    namespace: default\n    deployment: api\n    objectives: { errorRatio: 2 }\n",
      },
    });
    const config = Config.load({ env: { SLO_MODE: "on", LEADER_LEASE_NAMESPACE: "kube-system", NEURO_STATE_DIR: "/nonexistent" } });
    const journal = new ActionJournal(new ActionHistory(new Database(":memory:")), silentLogger);
    const rejected: string[] = [];
    const red = new OtlpFedRed();
    await red.traffic({ service: "web", namespace: "default", deployment: "web" }, T0 - 30 * MIN, T0, 1000, 800);
    const store = sim.store;
    const slo = new SloService({
      config,
      client: new KubeClient(fromKubeconfigFile(sim.kubeconfig())),
      objects: { list: (kind, ns) => store.list(kind === "Deployment" ? "deployments" : kind, ns) },
      journal,
      logger: silentLogger,
      now: () => T0,
      mayAct: () => true,
      red,
      rejects: { reject: (source, reason) => void rejected.push(`${source}: ${reason}`) },
    });
    await slo.tick();
    expect(replicas("web")).toBe(3);
    expect(rejected).toEqual([expect.stringContaining("slo.policy: ConfigMap kube-system/neurocontroller-slo-policies key bad.yaml: policies.0")]);
    expect(rejected[0]).toContain("objectives.errorRatio");
    const status = await slo.status();
    expect(status.policies.map((p) => [p.policy.name, p.report?.burning])).toEqual([["web-p99", true]]);
    expect(status.actions.map((a) => a.summary)).toEqual(["Deployment default/web scaled up from 2 to 3 replicas (policy web-p99)"]);
    expect(status.errors.length).toBe(1);
  }, 30_000);
});
