// Shared anomaly builder for the diagnosis tests.
import type { Anomaly } from "../../../src/model/anomaly.ts";

export function anomaly(over: Partial<Anomaly> = {}): Anomaly {
  return {
    kind: "Pod",
    namespace: "default",
    name: "web-1",
    node: "pi-1",
    reason: "NotReady",
    severity: "warning",
    category: "Condition",
    message: "Pod web-1 is not ready.",
    eventTime: "2025-06-09T08:42:05Z",
    ...over,
  };
}

export const T0 = Date.parse("2025-06-09T08:42:20Z");
