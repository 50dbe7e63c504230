// Discovery (served resources, first served candidate, 404 for an unserved group) and the API health monitor.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KubeClient } from "../../src/kube/client.ts";
import { chooseResource, clearDiscoveryCache, isServed, servedResources } from "../../src/kube/discovery.ts";
import { ApiHealthMonitor } from "../../src/kube/health.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { start } from "../sim/helpers.ts";
import { waitFor } from "../../testkit/wait.ts";
import { BOGUS, ENDPOINTS, ENDPOINTSLICES, PODS } from "./refs.ts";

describe("discovery", () => {
  let full: Simulator;
  let old: Simulator;
  beforeAll(async () => {
    [full, old] = await Promise.all([start(), start({ served: { endpointSlices: false, policyV1: false } })]);
  });
  afterAll(() => Promise.all([full.stop(), old.stop()]));
  const clientOf = (s: Simulator) => new KubeClient(loadConnection({ kubeconfig: s.kubeconfig(), env: {} })!);

  test("servedResources lists core v1 (and asked group/versions), without subresources", async () => {
    const served = await servedResources(clientOf(full), [{ group: "", version: "v1" }, { group: "discovery.k8s.io", version: "v1" }, BOGUS]);
    expect(served.get("v1/pods")).toMatchObject({ kind: "Pod", namespaced: true });
    expect(served.get("v1/nodes")).toMatchObject({ kind: "Node", namespaced: false });
    expect(served.has("discovery.k8s.io/v1/endpointslices")).toBe(true);
    expect([...served.keys()].some((k) => k.includes("/status"))).toBe(false);
  });

  test("EndpointSlices where served, Endpoints otherwise; unserved group → 404 handled", async () => {
    expect(await chooseResource(clientOf(full), [ENDPOINTSLICES, ENDPOINTS])).toEqual(ENDPOINTSLICES);
    expect(await chooseResource(clientOf(old), [ENDPOINTSLICES, ENDPOINTS])).toEqual(ENDPOINTS);
    expect(await chooseResource(clientOf(full), [BOGUS])).toBeNull();
    expect(await isServed(clientOf(full), PODS)).toBe(true);
  });

  test("results are cached per client; a transient failure is not", async () => {
    const c = clientOf(full);
    full.faults.failNext("GET /apis/discovery.k8s.io/v1", 503);
    await expect(chooseResource(c, [ENDPOINTSLICES])).rejects.toMatchObject({ status: 503 });
    expect(await chooseResource(c, [ENDPOINTSLICES])).toEqual(ENDPOINTSLICES);
    const before = c.stats.requests;
    expect(await chooseResource(c, [ENDPOINTSLICES])).toEqual(ENDPOINTSLICES);
    expect(c.stats.requests).toBe(before);
    clearDiscoveryCache(c);
    await chooseResource(c, [ENDPOINTSLICES]);
    expect(c.stats.requests).toBe(before + 1);
  });
});

describe("ApiHealthMonitor", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start();
  });
  afterAll(() => sim.stop());

  test("reports ok, then the outage, then the recovery; never throws", async () => {
    const client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
    const changes: [boolean, string][] = [];
    const mon = new ApiHealthMonitor(client, { intervalMs: 20, onChange: (ok, d) => changes.push([ok, d]) });
    mon.start();
    await waitFor(() => mon.checked);
    expect(mon.ok).toBe(true);
    expect(changes).toEqual([[true, "/readyz: ok"]]);
    await sim.stop();
    await waitFor(() => !mon.ok);
    expect(mon.lastError).toBeTruthy();
    await sim.restart();
    await waitFor(() => mon.ok, { timeoutMs: 5000 });
    expect(mon.lastError).toBeUndefined();
    expect(changes.map((c) => c[0])).toEqual([true, false, true]);
    mon.stop();
  });

  test("a not-ready /readyz is unhealthy; a missing /readyz falls back to /healthz", async () => {
    const client = new KubeClient(loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!);
    const mon = new ApiHealthMonitor(client, { intervalMs: 60_000 });
    sim.faults.failNext("GET /readyz", 500);
    await mon.check();
    expect(mon.ok).toBe(false);
    expect(mon.lastError).toContain("/readyz: HTTP 500");
    sim.faults.failNext("GET /readyz", 404);
    await mon.check();
    expect(mon.ok).toBe(true);
    expect(mon.lastDetail).toBe("/healthz: ok");
  });
});
