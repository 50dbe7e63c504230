// RuleContext.loggedSince: a state whose start is only its first observation continues with the
// eventTime the log already reports, so a new leader (or a restarted controller) neither resolves it
// nor fires it again later with a new eventTime.
import { describe, expect, test } from "bun:test";
import { evaluateService } from "../../../src/watchers/service.ts";
import { activeSince } from "../../../src/watchers/util.ts";
import { at, endpointSlice, memCache, ruleContext, sec, service, T0 } from "../../support/fixtures.ts";

describe("logged evidence (RuleContext.loggedSince)", () => {
  test("a new leader's first look at a Service without ready endpoints continues the logged anomaly", () => {
    const cache = memCache([endpointSlice("web", [false])]); // no last-change annotation: first observation only
    const fresh = ruleContext({ cache });
    expect(evaluateService(service(), fresh.at(0))).toEqual([]); // without evidence it waits RULE_ENDPOINTS_EMPTY_FOR
    const seeded = ruleContext({ cache });
    const asked: string[] = [];
    seeded.ctx.loggedSince = (a) => {
      asked.push(`${a.kind}/${a.namespace}/${a.name}/${a.reason}`);
      return T0 - sec(300);
    };
    const [a] = evaluateService(service(), seeded.at(0));
    expect(asked).toEqual(["Endpoints/default/web/NoReadyAddress"]);
    expect(a!.eventTime).toBe(at(-sec(300)));
    expect(a!.message).toContain("for 5m");
  });

  test("evidence moves a remembered start back, never forward, and is forgotten with the state", () => {
    const memo: Record<string, unknown> = {};
    expect(activeSince(memo, "k", true, 1000, undefined, undefined)).toBe(1000);
    expect(activeSince(memo, "k", true, 2000, undefined, 500)).toBe(500);
    expect(activeSince(memo, "k", true, 3000, undefined, 900)).toBe(500);
    expect(activeSince(memo, "k", true, 3000, undefined, 5000)).toBe(500); // a logged start in the future is no evidence
    expect(activeSince(memo, "k", false, 4000, undefined, 500)).toBeUndefined();
    expect(activeSince(memo, "k", true, 5000)).toBe(5000);
  });
});
