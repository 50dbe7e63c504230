import { describe, expect, test } from "bun:test";
import { decideScale, evaluateBurn } from "../../../src/slo/burn.ts";
import { isPolicyError, type Policy, PolicySchema, policiesFromConfigMap, policyFromAnnotations, POLICY_TEXT_MAX } from "../../../src/slo/policy.ts";
import { RedWindows, type ServiceKey } from "../../../src/slo/red.ts";

/** n requests spread over [from, to), each durationMs long, every errorEvery-th one an error, into the real RED windows. */
function traffic(red: RedWindows, key: ServiceKey, from: number, to: number, n: number, durationMs: number, errorEvery = 0): void {
  for (let i = 0; i < n; i++) red.record(key, durationMs, errorEvery > 0 && i % errorEvery === 0, from + ((to - from) * i) / n);
}

const WEB_YAML = `
policies:
  - name: web
    namespace: shop
    deployment: web
    service: web-frontend
    objectives:
      latency: { quantile: 0.99, thresholdMs: 300 }
      errorRatio: "1%"
    burnRates:
      - { long: 1h, short: 5m, factor: 14.4 }
      - { long: 6h, short: 30m, factor: 6 }
    actions: [scale]
    scale: { min: 2, max: 5, step: 1, stabilization: 15m }
`;

const dep = (annotations: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", annotations },
  spec: { replicas: 2 },
});

describe("SLO policies", () => {
  test("a YAML policy from the ConfigMap: durations, ratios and defaults", () => {
    const set = policiesFromConfigMap("ConfigMap neurocontroller/neurocontroller-slo-policies", { "web.yaml": WEB_YAML });
    expect(set.errors).toEqual([]);
    const p = set.policies[0]!;
    expect(p.objectives).toEqual({ latency: { quantile: 0.99, thresholdMs: 300 }, errorRatio: 0.01 });
    expect(p.burnRates).toEqual([
      { long: 3_600_000, short: 300_000, factor: 14.4 },
      { long: 21_600_000, short: 1_800_000, factor: 6 },
    ]);
    expect(p.scale).toEqual({ min: 2, max: 5, step: 1, stabilization: 900_000, comfort: 0.5 });
    expect(p.minRequests).toBe(10);
  });

  test("errors name the ConfigMap key and the field; a bad policy does not hide a good one", () => {
    const bad = WEB_YAML.replace("max: 5", 'max: "ten"').replace("long: 6h", "long: 6 hours");
    const set = policiesFromConfigMap("ConfigMap ns/p", {
      "bad.yaml": bad,
      "typo.yaml":
        "policies:\n  - name: x\n    namespace: a\n    deployment: b\n    objectives: { latency: { thresholdMs: 200 } }\n    windows: 1h\n",
      "broken.yaml": "policies: [ {",
      "huge.yaml": "x".repeat(POLICY_TEXT_MAX + 1),
      "good.yaml": WEB_YAML.replace("name: web\n", "name: web2\n"),
    });
    expect(set.policies.map((p) => p.name)).toEqual(["web2"]);
    const text = set.errors.map((e) => `${e.where}: ${e.message}`);
    expect(text[0]).toContain("ConfigMap ns/p key bad.yaml: policies.0");
    expect(text[0]).toContain("scale.max");
    expect(text[0]).toContain("burnRates.1.long");
    expect(text[1]).toContain("windows");
    expect(text[2]).toContain("key broken.yaml: not valid YAML");
    expect(text[3]).toContain("exceed the limit");
  });

  test("annotations declare the same policy; a bad one names the annotation", () => {
    const p = policyFromAnnotations(
      dep({
        "neurocontroller.io/slo-latency": "p95<=250ms",
        "neurocontroller.io/slo-error-ratio": "0.5%",
        "neurocontroller.io/slo-burn-rates": "1h/5m:14.4, 6h/30m:6",
        "neurocontroller.io/slo-actions": "scale",
        "neurocontroller.io/slo-scale": "min=1,max=3,step=1,stabilization=10m",
      }),
    );
    expect(p && !isPolicyError(p)).toBe(true);
    const policy = p as Policy;
    expect(policy.objectives).toEqual({ latency: { quantile: 0.95, thresholdMs: 250 }, errorRatio: 0.005 });
    expect(policy.scale?.max).toBe(3);
    expect(policy.burnRates.length).toBe(2);
    expect(policyFromAnnotations(dep({}))).toBeUndefined();

    const bad = policyFromAnnotations(dep({ "neurocontroller.io/slo-latency": "300ms", "neurocontroller.io/slo-scale": "min=4,max=2" }));
    expect(bad && isPolicyError(bad) && bad.where).toBe("Deployment shop/web annotation neurocontroller.io/slo-scale");
    const noMax = policyFromAnnotations(dep({ "neurocontroller.io/slo-error-ratio": "150%" }));
    expect(noMax && isPolicyError(noMax) && noMax.where).toBe("Deployment shop/web annotation neurocontroller.io/slo-error-ratio");
  });

  test("burn rates: both windows of a pair must agree; scale steps stay within [min, max]", () => {
    const p = PolicySchema.parse({
      name: "web",
      namespace: "shop",
      deployment: "web",
      objectives: { errorRatio: "1%" },
      burnRates: [{ long: "1h", short: "5m", factor: 10 }],
      actions: ["scale"],
      scale: { min: 2, max: 3, step: 2, stabilization: "10m" },
    });
    const now = Date.parse("2026-12-04T12:00:00Z");
    const red = new RedWindows({ windowMs: 6 * 3_600_000 });
    const key = { service: "web", namespace: "shop", deployment: "web" };
    traffic(red, key, now - 60 * 60_000, now, 6000, 20); // no errors for an hour
    traffic(red, key, now - 5 * 60_000, now, 500, 20, 2); // 50% errors in the last 5 minutes: 250 of ~1000 in the short window
    let r = evaluateBurn(p, red, now);
    expect(r.pairs[0]!.errorBurn![1]).toBeGreaterThan(10);
    expect(r.pairs[0]!.errorBurn![0]).toBeLessThan(10);
    expect(r.burning).toBe(false);

    traffic(red, key, now - 60 * 60_000, now, 2000, 20, 2); // errors all hour long
    r = evaluateBurn(p, red, now);
    expect(r.burning).toBe(true);
    expect(r.evidence).toContain("error budget burning");
    expect(decideScale(p, r, 2, undefined, now)).toEqual({ kind: "scale-up", from: 2, to: 3 });
    expect(decideScale(p, r, 3, undefined, now)).toEqual({ kind: "hold", why: "already at scale.max (3)" });

    const calm = new RedWindows({ windowMs: 6 * 3_600_000 });
    traffic(calm, key, now - 60 * 60_000, now, 6000, 20);
    const c = evaluateBurn(p, calm, now);
    expect(c.comfortable).toBe(true);
    expect(decideScale(p, c, 3, now - 5 * 60_000, now)?.kind).toBe("hold");
    expect(decideScale(p, c, 3, now - 11 * 60_000, now)).toEqual({ kind: "scale-down", from: 3, to: 2 });
    expect(decideScale(p, c, 2, undefined, now)).toBeUndefined();
  });
});
