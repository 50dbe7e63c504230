// The real RED windows of the controller, fed through its real OTLP/HTTP intake (schema check, decode,
// the entry-span rule, the windows): a test chooses each span's end time, so windows of minutes pass in no
// time, and posts OTLP/JSON ExportTraceServiceRequests to the route handler the HTTP server would call.
import { randomBytes } from "node:crypto";
import { IGNORE_REJECTS } from "../../src/boundary/reject.ts";
import { Registry } from "../../src/http/metrics.ts";
import { OtlpIntake } from "../../src/slo/intake.ts";
import type { RedSource, RedWindow, ServiceKey } from "../../src/slo/burn.ts";

const BATCH = 2000;
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

export class OtlpFedRed implements RedSource {
  readonly intake = new OtlpIntake({
    token: "",
    maxBodyBytes: 4 << 20,
    slotMs: 10_000,
    windowMs: 3_600_000,
    maxServices: 16,
    rejects: IGNORE_REJECTS,
    registry: new Registry(),
  });

  /** n SERVER spans spread over [from, to), each durationMs long, every errorEvery-th one an error (0: none), posted as OTLP/JSON. */
  async traffic(service: ServiceKey, from: number, to: number, n: number, durationMs: number, errorEvery = 0): Promise<void> {
    const attributes = [str("service.name", service.service), str("k8s.namespace.name", service.namespace)];
    if (service.deployment) attributes.push(str("k8s.deployment.name", service.deployment));
    for (let first = 0; first < n; first += BATCH) {
      const spans = [];
      for (let i = first; i < Math.min(n, first + BATCH); i++) {
        const endNs = BigInt(Math.round(from + ((to - from) * i) / n)) * 1_000_000n;
        spans.push({
          traceId: randomBytes(16).toString("hex"),
          spanId: randomBytes(8).toString("hex"),
          name: "GET /",
          kind: 2,
          startTimeUnixNano: String(endNs - BigInt(Math.round(durationMs * 1e6))),
          endTimeUnixNano: String(endNs),
          status: { code: errorEvery > 0 && i % errorEvery === 0 ? 2 : 0 },
        });
      }
      const body = JSON.stringify({ resourceSpans: [{ resource: { attributes }, scopeSpans: [{ spans }] }] });
      const req = new Request("http://127.0.0.1/v1/traces", { method: "POST", headers: { "content-type": "application/json" }, body });
      const resp = await this.intake.handle(req, { remoteAddress: "127.0.0.1" });
      if (resp.status !== 200) throw new Error(`OTLP intake answered ${resp.status}: ${await resp.text()}`);
    }
  }

  query(service: ServiceKey, windowMs: number, nowMs: number): RedWindow {
    return this.intake.red.query(service, windowMs, nowMs);
  }
}
