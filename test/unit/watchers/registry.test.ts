import { describe, expect, test } from "bun:test";
import { PLUGINS, pluginFor } from "../../../src/watchers/registry.ts";
import { ruleContext } from "../../support/fixtures.ts";

describe("watcher registry", () => {
  test("every plugin has a unique kind and at least one resource", () => {
    const kinds = PLUGINS.map((p) => p.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const p of PLUGINS) {
      expect(p.resources.length).toBeGreaterThan(0);
      for (const r of p.resources) expect(r.plural).toMatch(/^[a-z]+$/);
    }
  });

  test("covers every kind the design names", () => {
    for (const kind of ["Pod", "Node", "Deployment", "ReplicaSet", "Service", "Endpoints", "Event", "StatefulSet", "DaemonSet", "Job"]) {
      expect(pluginFor(kind)?.kind).toBe(kind);
    }
    expect(pluginFor("EndpointSlice")?.kind).toBe("Endpoints");
    expect(pluginFor("ConfigMap")).toBeUndefined();
  });

  test("Nodes are cluster-scoped, the rest namespaced", () => {
    for (const p of PLUGINS) for (const r of p.resources) expect(r.namespaced).toBe(r.kind !== "Node");
  });

  test("every plugin tolerates a bare object (no status, no kind)", () => {
    const { ctx } = ruleContext();
    for (const p of PLUGINS) expect(() => p.evaluate({ metadata: { name: "x", namespace: "default" } }, ctx)).not.toThrow();
  });
});
