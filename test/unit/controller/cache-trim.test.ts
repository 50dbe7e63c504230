// The informer caches keep what the rules read and drop managedFields and kubectl's last-applied copy.
import { expect, test } from "bun:test";
import { LAST_APPLIED, TrimmedCache, trimForCache } from "../../../src/controller/cache-trim.ts";
import { evaluatePod } from "../../../src/watchers/pod.ts";
import { container, pod, ruleContext } from "../../support/fixtures.ts";

const managed = [
  {
    manager: "kubelet",
    operation: "Update",
    apiVersion: "v1",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:status": { "f:phase": {} } },
    subresource: "status",
  },
];

test("trimForCache drops managedFields and the last-applied annotation, keeps every other field", () => {
  const p = pod({
    name: "web-1",
    extra: {
      metadata: {
        managedFields: managed,
        annotations: { [LAST_APPLIED]: "{...}", "endpoints.kubernetes.io/last-change-trigger-time": "x" },
        resourceVersion: "42",
      },
    },
  });
  const expected = structuredClone(p);
  delete expected.metadata.managedFields;
  delete expected.metadata.annotations![LAST_APPLIED];
  expect(trimForCache(p)).toEqual(expected);
  expect(trimForCache({ metadata: { name: "bare" } })).toEqual({ metadata: { name: "bare" } });
});

test("a TrimmedCache stores trimmed objects, and rules give the same answer on them", () => {
  const cache = new TrimmedCache();
  const raw = pod({
    name: "crash",
    containers: [container({ waiting: "CrashLoopBackOff", restartCount: 4 })],
    extra: { metadata: { managedFields: managed } },
  });
  const untouched = structuredClone(raw);
  cache.set("default/crash", raw);
  expect(cache.get("default/crash")!.metadata.managedFields).toBeUndefined();
  expect(cache.get("default/crash")!.metadata.resourceVersion).toBe(untouched.metadata.resourceVersion);
  expect(evaluatePod(cache.get("default/crash")!, ruleContext({ nowMs: 1000 }).ctx)).toEqual(
    evaluatePod(untouched, ruleContext({ nowMs: 1000 }).ctx),
  );
});
