// Every subcommand, registered in one place (the order is the order of `--help`). Each command's
// module is imported only when that command runs: a bundled module's top-level code runs only when it
// is first imported, so the agent never loads the controller's modules (informers, stores, SMTP, Slack,
// OTLP protobuf decoding, the web page) and the controller never loads the agent's (libbpf FFI,
// systeminformation). Measured on the compiled binary: see the commit that introduced it.
import type { Command } from "./command.ts";

export interface CommandEntry {
  name: string;
  /** One line for the overview of `--help`. */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: "controller",
    summary: "Run the controller (watch → rules → cleaned_events.log); the demo cluster when no cluster is configured",
    load: async () => (await import("./controller.ts")).controllerCommand,
  },
  {
    name: "agent",
    summary: "Run the eBPF syscall-latency agent (trace pool, spans over MQTT)",
    load: async () => (await import("./agent.ts")).agentCommand,
  },
  {
    name: "scan",
    summary: "List the cluster once, evaluate every rule, print anomalies (exit 3 when any fire)",
    load: async () => (await import("./scan.ts")).scanCommand,
  },
  {
    name: "alerts",
    summary: "Print the alerts the controller publishes over MQTT (--follow to keep watching)",
    load: async () => (await import("./alerts.ts")).alertsCommand,
  },
  {
    name: "status",
    summary: "Print open incidents (retained MQTT state and/or the local state database)",
    load: async () => (await import("./status.ts")).statusCommand,
  },
  {
    name: "hosts",
    summary: "Print every node's last host-health report: temperature, throttling, disk, clock, age",
    load: async () => (await import("./hosts.ts")).hostsCommand,
  },
  {
    name: "silence",
    summary: "Add, list or expire silences (stored in the cluster, shared by every controller)",
    load: async () => (await import("./silence.ts")).silenceCommand,
  },
  {
    name: "slo",
    summary: "SLO actions: status (objectives, burn, last actions), pause or resume",
    load: async () => (await import("./slo.ts")).sloCommand,
  },
  {
    name: "heal",
    summary: "Node self-healing: status, pause, resume and the history of its decisions",
    load: async () => (await import("./heal.ts")).healCommand,
  },
  {
    name: "changes",
    summary: "Print the recent change history (who changed what, from → to)",
    load: async () => (await import("./changes.ts")).changesCommand,
  },
  {
    name: "audit",
    summary: "Print or verify the tamper-evident action log (audit.log)",
    load: async () => (await import("./audit.ts")).auditCommand,
  },
  {
    name: "trace",
    summary: "trace top: live per-trace / per-syscall latency table from the agents' spans (MQTT)",
    load: async () => (await import("./trace-top.ts")).traceCommand,
  },
  {
    name: "demo",
    summary: "Run the controller against the built-in simulated cluster and a scripted story of failures",
    load: async () => (await import("./demo.ts")).demoCommand,
  },
  {
    name: "sim",
    summary: "Run the built-in Kubernetes API simulator alone and write a kubeconfig for it",
    load: async () => (await import("./sim.ts")).simCommand,
  },
  {
    name: "check-config",
    summary: "Validate the configuration and print the effective values (secrets redacted)",
    load: async () => (await import("./check-config.ts")).checkConfigCommand,
  },
  {
    name: "version",
    summary: "Print version, commit, build date, runtime and architecture",
    load: async () => (await import("./version.ts")).versionCommand,
  },
];
