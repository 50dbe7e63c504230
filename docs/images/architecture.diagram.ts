// Source of docs/images/architecture.svg (rendered by scripts/diagram.ts; `npm run docs` regenerates it).
// Columns and rows are grid cells; keep it in step with docs/architecture.md.
import type { Diagram } from "../../scripts/diagram.ts";

export const ARCHITECTURE: Diagram = {
  title: "NeuroController: anomalies → alerts, spans → traces",
  cols: 6,
  rows: 6,
  lanes: [
    [0.55, "Anomalies → log and alerts (the active controller)"],
    [4.55, "Spans → traces (an agent on every node)"],
  ],
  boxes: [
    { id: "api", lines: ["K3s API server", "list + watch, Lease"], col: 0, row: 1, kind: "external" },
    { id: "kube", lines: ["informers", "src/kube/"], col: 1, row: 1, kind: "module" },
    { id: "rules", lines: ["rules", "src/watchers/"], col: 2, row: 1, kind: "module" },
    { id: "diagnosis", lines: ["collect, clean, log", "src/diagnosis/"], col: 3, row: 1, kind: "module" },
    { id: "log", lines: ["cleaned_events.log", "JSON lines"], col: 4, row: 1, kind: "store" },
    { id: "correlation", lines: ["incidents", "src/correlation/"], col: 3, row: 2, kind: "module" },
    { id: "alerting", lines: ["alerting pipeline", "src/alerting/"], col: 4, row: 2, kind: "module" },
    { id: "outbox", lines: ["outbox (state.db)", "src/store/"], col: 5, row: 2, kind: "store" },
    { id: "channels", lines: ["channels", "src/channels/"], col: 5, row: 3, kind: "module" },
    { id: "receivers", lines: ["Slack · email · MQTT", "AlertGroupData"], col: 4, row: 3, kind: "external" },
    { id: "kernel", lines: ["Linux kernel", "syscall tracepoints"], col: 0, row: 5, kind: "external" },
    { id: "agent", lines: ["eBPF agent", "agent/"], col: 1, row: 5, kind: "module" },
    { id: "broker", lines: ["MQTT broker", "<prefix>/spans/<node>"], col: 2, row: 5, kind: "external" },
    { id: "bridge", lines: ["trace bridge", "src/trace/"], col: 3, row: 5, kind: "module" },
    { id: "apm", lines: ["Elastic APM / OTLP", "traces"], col: 4, row: 5, kind: "external" },
  ],
  edges: [
    { from: "api", to: "kube", label: "objects" },
    { from: "kube", to: "rules", label: "caches" },
    { from: "rules", to: "diagnosis", label: "anomalies" },
    { from: "diagnosis", to: "log", label: "firing / resolved" },
    { from: "diagnosis", to: "correlation", label: "active set" },
    { from: "correlation", to: "alerting", label: "changes" },
    { from: "alerting", to: "outbox", label: "notifications" },
    { from: "outbox", to: "channels" },
    { from: "channels", to: "receivers", label: "at least once" },
    { from: "kernel", to: "agent", label: "syscall events" },
    { from: "agent", to: "broker", label: "spans" },
    { from: "broker", to: "bridge" },
    { from: "bridge", to: "apm", label: "spans in traces" },
    {
      from: "bridge",
      to: "diagnosis",
      label: "slow syscalls",
      dashed: true,
      via: [
        [3, 4],
        [2.5, 4],
        [2.5, 1],
      ],
    },
  ],
  footer: [
    "One binary on every node; one controller per cluster is active (Lease leader election), the others stay warm.",
    "Rules and pipeline stages are pure; I/O sits at the edges (kube, diagnosis log writer, store, channels, trace).",
  ],
};
