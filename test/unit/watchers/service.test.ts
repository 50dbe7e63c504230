import { describe, expect, test } from "bun:test";
import { endpointsPlugin, endpointReadiness } from "../../../src/watchers/endpoints.ts";
import { evaluateService } from "../../../src/watchers/service.ts";
import { at, endpointSlice, endpoints, memCache, ruleContext, sec, service } from "../../support/fixtures.ts";

describe("Service NoReadyAddress (EndpointSlices)", () => {
  test("zero endpoints fires after RULE_ENDPOINTS_EMPTY_FOR as kind Endpoints named after the Service", () => {
    const cache = memCache([endpointSlice("web", [])]);
    const r = ruleContext({ cache });
    expect(evaluateService(service(), r.at(0))).toEqual([]);
    expect(evaluateService(service(), r.at(sec(9)))).toEqual([]);
    const [a] = evaluateService(service(), r.at(sec(11)));
    expect(a).toMatchObject({
      kind: "Endpoints",
      namespace: "default",
      name: "web",
      reason: "NoReadyAddress",
      severity: "critical",
      category: "Endpoint",
      node: "",
    });
    expect(a!.message).toContain("no running Pod matches its selector app=web");
    expect(a!.eventTime).toBe(at(0));
    expect(evaluateService(service(), r.at(sec(30)))[0]!.eventTime).toBe(at(0));
  });

  test("only not-ready endpoints: message says they exist but none is ready", () => {
    const cache = memCache([endpointSlice("web", [false, false, false], { lastChangeMs: -sec(40) })]);
    const [a] = evaluateService(service(), ruleContext({ cache }).ctx);
    expect(a!.message).toContain("3 endpoints exist but none is ready");
    expect(a!.eventTime).toBe(at(-sec(40))); // from the last-change annotation
  });

  test("ready=null means ready; one ready endpoint is healthy; resolves when an endpoint becomes ready", () => {
    const cache = memCache([endpointSlice("web", [null])]);
    expect(evaluateService(service(), ruleContext({ cache }).ctx)).toEqual([]);
    const cache2 = memCache([endpointSlice("web", [false])]);
    const r = ruleContext({ cache: cache2 });
    evaluateService(service(), r.at(0));
    expect(evaluateService(service(), r.at(sec(20)))).toHaveLength(1);
    cache2.put(endpointSlice("web", [false, true]));
    expect(evaluateService(service(), r.at(sec(25)))).toEqual([]);
  });

  test("slices of other services or namespaces are not counted; dual-stack counted once", () => {
    const cache = memCache([endpointSlice("api", [true]), endpointSlice("web", [true], { namespace: "other" }), endpointSlice("web", [false])]);
    expect(endpointReadiness("default", "web", cache)).toMatchObject({ total: 1, ready: 0, source: "EndpointSlice" });
    const dual = memCache([endpointSlice("web", [true, true]), endpointSlice("web", [true, true], { name: "web-v6", addressType: "IPv6" })]);
    expect(endpointReadiness("default", "web", dual)).toMatchObject({ total: 2, ready: 2 });
  });
});

describe("Service NoReadyAddress (core Endpoints fallback)", () => {
  test("used when the cache has no EndpointSlices", () => {
    const cache = memCache([endpoints("web", 0, 2)]);
    const r = ruleContext({ cache });
    evaluateService(service(), r.at(0));
    const [a] = evaluateService(service(), r.at(sec(15)));
    expect(a!.message).toContain("2 endpoints exist but none is ready");
    expect(evaluateService(service(), ruleContext({ cache: memCache([endpoints("web", 1, 2)]) }).at(sec(15)))).toEqual([]);
  });

  test("missing Endpoints object counts as no endpoints", () => {
    const r = ruleContext({ cache: memCache() });
    evaluateService(service(), r.at(0));
    expect(evaluateService(service(), r.at(sec(15)))).toHaveLength(1);
  });
});

describe("Services that are never flagged", () => {
  const r = () => {
    const ctx = ruleContext({ cache: memCache([endpointSlice("web", [])]) });
    return (svc: ReturnType<typeof service>) => {
      evaluateService(svc, ctx.at(0));
      return evaluateService(svc, ctx.at(sec(60)));
    };
  };
  test("headless Service (clusterIP None)", () => expect(r()(service({ clusterIP: "None" }))).toEqual([]));
  test("Service without selector", () => expect(r()(service({ selector: null }))).toEqual([]));
  test("ExternalName Service", () => expect(r()(service({ type: "ExternalName" }))).toEqual([]));
  test("default/kubernetes", () => expect(r()(service({ name: "kubernetes", selector: null }))).toEqual([]));
  test("default/kubernetes even with a selector", () => expect(r()(service({ name: "kubernetes", selector: { x: "y" } }))).toEqual([]));
});

describe("Endpoints plugin", () => {
  test("watches EndpointSlices first, then core Endpoints", () => {
    expect(endpointsPlugin.resources.map((x) => `${x.group}/${x.version}/${x.plural}`)).toEqual([
      "discovery.k8s.io/v1/endpointslices",
      "/v1/endpoints",
    ]);
  });
  test("raises nothing itself and affects the Service it belongs to", () => {
    const slice = endpointSlice("web", []);
    const ctx = ruleContext().ctx;
    expect(endpointsPlugin.evaluate(slice, ctx)).toEqual([]);
    expect(endpointsPlugin.affects!(slice)).toEqual([{ kind: "Service", namespace: "default", name: "web" }]);
    const { kind: _k, ...listItem } = slice; // list items carry no kind
    expect(endpointsPlugin.affects!(listItem as typeof slice)).toEqual([{ kind: "Service", namespace: "default", name: "web" }]);
    expect(endpointsPlugin.affects!(endpoints("api", 1, 0))).toEqual([{ kind: "Service", namespace: "default", name: "api" }]);
  });
  test("a slice without a service-name label affects nothing", () => {
    const slice = endpointSlice("web", []);
    slice.metadata.labels = {};
    expect(endpointsPlugin.affects!(slice)).toEqual([]);
  });
});
