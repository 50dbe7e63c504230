// 10,000 pod updates through the real pipeline (rules → collector → cleaner → reconcile) with an
// injected clock: what the pools retain stays bounded by the configured caps and windows.
import { expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { Caches, Evaluator } from "../../../src/controller/evaluator.ts";
import { Cleaner } from "../../../src/diagnosis/cleaner.ts";
import { Collector } from "../../../src/diagnosis/collector.ts";
import { reconcile, type LoggedEntry } from "../../../src/diagnosis/reconcile.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { objectKey } from "../../../src/kube/types.ts";
import { PLUGINS } from "../../../src/watchers/registry.ts";
import { T0, container, pod, sec } from "../../support/fixtures.ts";
import { ruleSettings } from "../../../src/watchers/settings.ts";

test("10,000 pod updates leave the pools bounded and every distinct anomaly logged once", () => {
  const config = Config.with({ NEURO_RAW_POOL_MAX: "500", DIAGNOSIS_RETENTION_RAW_DURATION: "60s", DIAGNOSIS_RETENTION_CLEANED_DURATION: "60s" });
  const cleaner = new Cleaner({ rawRetentionMs: 60_000, cleanedRetentionMs: 60_000, rawMax: 500 });
  const collector = new Collector(cleaner);
  const caches = new Caches();
  const pods = new Map<string, KubeObject>();
  caches.register("Pod", pods);
  const evaluator = new Evaluator(PLUGINS, ruleSettings(config), caches, collector);
  let logged = new Map<string, LoggedEntry>();
  let firingLines = 0;
  const distinctFired = new Set<string>();

  const reasons = ["CrashLoopBackOff", "ImagePullBackOff", "CreateContainerConfigError", undefined];
  let now = T0;
  let maxRaw = 0;
  let maxCleaned = 0;
  let maxActive = 0;
  for (let i = 0; i < 10_000; i++) {
    now += 50; // 20 updates/s: 500 s of simulated time, eight raw-retention windows
    const name = `storm-${i % 700}`;
    const waiting = reasons[(i * 7 + Math.floor(i / 700)) % reasons.length];
    const p = pod({ name, node: `pi-${i % 5}`, containers: [container({ waiting, restartCount: i % 13 })] });
    pods.set(objectKey(p), p);
    evaluator.onEvent("Pod", i % 97 === 0 ? "DELETED" : "MODIFIED", p, now);
    if (i % 97 === 0) pods.delete(objectKey(p));
    if (i % 100 === 0) {
      cleaner.clean(now);
      const r = reconcile(collector.desired(), logged, now, 60_000);
      for (const l of r.lines)
        if (l.status === "firing") {
          firingLines++;
          distinctFired.add(l.key);
        }
      logged = r.logged;
    }
    maxRaw = Math.max(maxRaw, cleaner.rawSize);
    maxCleaned = Math.max(maxCleaned, cleaner.cleanedSize);
    maxActive = Math.max(maxActive, collector.activeCount);
  }
  expect(maxRaw).toBeLessThanOrEqual(500);
  // one cleaned entry per distinct key at most: 700 pods × 3 firing reasons
  expect(maxCleaned).toBeLessThanOrEqual(700 * 3);
  expect(maxActive).toBeLessThanOrEqual(700);
  expect(evaluator.memoCount).toBeLessThanOrEqual(700);
  expect(cleaner.rawDropped).toBeGreaterThan(0); // the cap, not luck, kept it bounded
  expect(firingLines).toBeGreaterThan(0);
  expect(distinctFired.size).toBeGreaterThan(100);
  expect(logged.size).toBeLessThanOrEqual(700 * 3);

  // quiet period: everything resolves and the cleaned pool drains after its retention
  for (const p of [...pods.values()]) evaluator.onEvent("Pod", "DELETED", p, now);
  now += sec(61);
  cleaner.clean(now);
  now += sec(61);
  cleaner.clean(now);
  expect(collector.activeCount).toBe(0);
  expect(cleaner.rawSize).toBe(0);
  expect(cleaner.cleanedSize).toBe(0);
});
