// Fuzz target: the rule engine. Random but API-valid objects of every watched kind (kube-objects.ts),
// cached together as the informers would, through every rule twice (the second time later, with the
// memory the first left): no rule throws, and every anomaly is well-formed.
import { expect, test } from "bun:test";
import { Config } from "../../src/config/load.ts";
import { Caches } from "../../src/controller/evaluator.ts";
import { MAX_ANOMALY_MESSAGE_LENGTH } from "../../src/kube/bounds.ts";
import { objectKey, type KubeObject } from "../../src/kube/types.ts";
import { pluginFor } from "../../src/watchers/registry.ts";
import type { Anomaly } from "../../src/model/anomaly.ts";
import type { RuleContext } from "../../src/watchers/types.ts";
import { ruleSettings } from "../../src/watchers/settings.ts";
import { admitted, cluster, FUZZ_NOW } from "./kube-objects.ts";
import { fc, fuzz } from "./support.ts";

const settings = ruleSettings(Config.load({ env: {} }));
const SEVERITIES = ["info", "warning", "critical"];

/** What is wrong with an anomaly ("" when well-formed). Plain checks: this runs ~100,000 times. */
function malformation(a: Anomaly): string {
  for (const f of ["kind", "namespace", "name", "node", "reason", "category", "message", "eventTime"] as const) {
    if (typeof a[f] !== "string") return `${f} is ${typeof a[f]}`;
  }
  if (!a.kind || !a.reason || !a.message.trim()) return "empty kind, reason or message";
  if (a.message.length > MAX_ANOMALY_MESSAGE_LENGTH) return `message of ${a.message.length} characters`;
  if (!SEVERITIES.includes(a.severity)) return `severity ${a.severity}`;
  if (Number.isNaN(Date.parse(a.eventTime))) return `eventTime ${a.eventTime}`;
  return "";
}

test("rules: every kind through every rule, twice; no throw, every anomaly well-formed", () => {
  fuzz("rules", 0x7e1e, fc.record({ objects: cluster, laterMs: fc.integer({ min: 0, max: 3_600_000 }) }), ({ objects, laterMs }) => {
    const caches = new Caches();
    const all: [string, KubeObject][] = [];
    for (const [kind, raw] of objects) {
      if (!caches.byKind.has(kind)) caches.register(kind, new Map());
      const obj = admitted(kind, raw);
      caches.byKind.get(kind)!.set(objectKey(obj), obj);
      all.push([kind, obj]);
    }
    const memos = new Map<KubeObject, Record<string, unknown>>();
    const bad: string[] = [];
    for (const now of [FUZZ_NOW, FUZZ_NOW + laterMs]) {
      for (const [kind, obj] of all) {
        const plugin = pluginFor(kind)!;
        const memo = memos.get(obj) ?? {};
        memos.set(obj, memo);
        const ctx: RuleContext = {
          now,
          settings,
          cache: caches,
          memo,
          recheckAt: (at) => void (Number.isFinite(at) || bad.push(`recheckAt(${at})`)),
        };
        for (const a of plugin.evaluate(obj, ctx)) {
          const problem = malformation(a);
          if (problem) bad.push(`${problem}: ${JSON.stringify(a)}`);
        }
        for (const dep of plugin.affects?.(obj) ?? []) if (typeof dep.name !== "string") bad.push(`affects ${JSON.stringify(dep)}`);
      }
    }
    expect(bad).toEqual([]);
  });
}, 120_000);
