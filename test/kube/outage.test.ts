// Quiet retries while the API server is away: one warning per outage, the rest counted, one summary.
import { describe, expect, test } from "bun:test";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { ApiOutageLog, isUnreachable } from "../../src/kube/outage.ts";
import { createLogger } from "../../src/log.ts";

function setup() {
  const lines: Record<string, unknown>[] = [];
  const clock = { t: 1_000_000 };
  const log = new ApiOutageLog(createLogger({ write: (l) => lines.push(JSON.parse(l)), clock: () => clock.t }), () => clock.t);
  return { lines, clock, log };
}
const refused = () => new KubeApiError(0, "NetworkError", "GET https://127.0.0.1:6443/api/v1/pods: ECONNREFUSED");

describe("ApiOutageLog", () => {
  test("60 refused calls from several sources: one warning, then one summary with the counts", () => {
    const { lines, clock, log } = setup();
    for (let i = 0; i < 60; i++) expect(log.failed(i % 2 ? "pods" : "lease", refused())).toBe(true);
    expect(lines.map((l) => l.message)).toEqual(["API server not answering; retrying quietly until it does"]);
    expect(log.inOutage).toBe(true);
    clock.t += 47_000;
    log.answered();
    log.answered(); // the other sources answering too: no second summary
    expect(lines.map((l) => l.message)).toEqual(["API server not answering; retrying quietly until it does", "API server answering again"]);
    expect(lines[1]).toMatchObject({ outageMs: 47_000, failedCalls: 60, bySource: { lease: 30, pods: 30 } });
    expect(log.failed("pods", refused())).toBe(true); // a new outage warns again
    expect(lines).toHaveLength(3);
  });

  test("answers that are errors (403, 404, 409, 410, 500) are not an outage: the caller logs them itself", () => {
    const { lines, log } = setup();
    for (const status of [403, 404, 409, 410, 500]) expect(log.failed("pods", new KubeApiError(status, "X", "x"))).toBe(false);
    expect(log.failed("pods", new Error("plain"))).toBe(false);
    expect(lines).toEqual([]);
    expect([0, 502, 503, 504].every((s) => isUnreachable(new KubeApiError(s, "X", "x")))).toBe(true);
  });
});
