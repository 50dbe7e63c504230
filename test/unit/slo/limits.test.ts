import { describe, expect, test } from "bun:test";
import type { ActionRecord } from "../../../src/model/action.ts";
import { ActionLimits } from "../../../src/slo/limits.ts";

const T0 = Date.parse("2026-12-04T10:00:00Z");
const MIN = 60_000;

describe("SLO action limits", () => {
  test("cooldown per workload, cap per hour across the cluster", () => {
    const limits = new ActionLimits(10 * MIN, 3);
    limits.note("Deployment shop/web", T0);
    expect(limits.refusal("Deployment shop/web", T0 + 5 * MIN)).toStartWith("SLO_COOLDOWN: last action on Deployment shop/web 300s ago");
    expect(limits.refusal("Deployment shop/api", T0 + 5 * MIN)).toBeUndefined();
    expect(limits.refusal("Deployment shop/web", T0 + 10 * MIN)).toBeUndefined();
    limits.note("Deployment shop/api", T0 + 20 * MIN);
    limits.note("Deployment shop/db", T0 + 30 * MIN);
    expect(limits.refusal("Deployment shop/cart", T0 + 45 * MIN)).toBe("SLO_MAX_ACTIONS_PER_HOUR: 3 actions in the last hour (max 3)");
    expect(limits.refusal("Deployment shop/cart", T0 + 61 * MIN)).toBeUndefined();
  });

  test("seeded from the history: decisions (planned or done) count, refusals and other sources do not", () => {
    const rec = (over: Partial<ActionRecord>): ActionRecord => ({
      id: Math.random().toString(),
      time: new Date(T0).toISOString(),
      source: "slo",
      mode: "on",
      target: { kind: "Deployment", namespace: "shop", name: "web" },
      step: "rollback",
      outcome: "done",
      reason: "",
      summary: "",
      ...over,
    });
    const limits = new ActionLimits(10 * MIN, 2);
    limits.seed([rec({}), rec({ outcome: "refused", target: { kind: "Deployment", namespace: "shop", name: "api" } }), rec({ source: "healing" })]);
    expect(limits.refusal("Deployment shop/web", T0 + MIN)).toContain("SLO_COOLDOWN");
    expect(limits.refusal("Deployment shop/api", T0 + MIN)).toBeUndefined();
    limits.seed([rec({ mode: "dry-run", outcome: "planned", target: { kind: "Deployment", namespace: "shop", name: "db" } })]);
    expect(limits.refusal("Deployment shop/api", T0 + MIN)).toContain("SLO_MAX_ACTIONS_PER_HOUR");
  });
});
