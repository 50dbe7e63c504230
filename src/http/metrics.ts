// A tiny Prometheus registry (text exposition format 0.0.4): counters and gauges with labels.
// No dependency: prom-client would be most of the binary's JavaScript for a dozen series.
export type Labels = Record<string, string>;

type MetricType = "counter" | "gauge";

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) if (!LABEL_RE.test(l) || l.startsWith("__")) throw new Error(`invalid label name ${l} on ${name}`);
  }

  /** Series identity: label values in declared order (a missing label is ""). */
  private id(labels: Labels): { id: string; values: string[] } {
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) throw new Error(`metric ${this.name} has no label ${k}`);
    }
    const values = this.labelNames.map((l) => labels[l] ?? "");
    return { id: JSON.stringify(values), values };
  }

  protected slot(labels: Labels): { labels: Labels; value: number } {
    const { id, values } = this.id(labels);
    let s = this.series.get(id);
    if (!s) {
      const own: Labels = {};
      this.labelNames.forEach((l, i) => {
        own[l] = values[i]!;
      });
      s = { labels: own, value: 0 };
      this.series.set(id, s);
    }
    return s;
  }

  /** Current value (0 for a series never touched); does not create the series. */
  get(labels: Labels = {}): number {
    return this.series.get(this.id(labels).id)?.value ?? 0;
  }

  /** Drops every series (e.g. before re-publishing a per-reason gauge, so stale reasons vanish). */
  reset(): void {
    this.series.clear();
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    // A label-less metric is always exposed (as 0 before first use), so dashboards see it at once.
    if (this.labelNames.length === 0 && this.series.size === 0) this.slot({});
    for (const s of this.series.values()) {
      const pairs = this.labelNames.map((l) => `${l}="${escapeLabelValue(s.labels[l]!)}"`);
      lines.push(`${this.name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(s.value)}`);
    }
    return lines.join("\n") + "\n";
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, "counter", labelNames);
  }

  inc(by?: number): void;
  inc(labels: Labels, by?: number): void;
  inc(a?: Labels | number, b?: number): void {
    const [labels, by] = typeof a === "object" ? [a, b ?? 1] : [{}, a ?? 1];
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    this.slot(labels).value += by;
  }

  /** Publishes a total kept elsewhere (e.g. Cleaner.rawDropped); never moves backwards. */
  advanceTo(total: number, labels: Labels = {}): void {
    const s = this.slot(labels);
    if (total > s.value) s.value = total;
  }
}

export class Gauge extends Metric {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, "gauge", labelNames);
  }

  set(value: number): void;
  set(labels: Labels, value: number): void;
  set(a: Labels | number, b?: number): void {
    if (typeof a === "number") this.slot({}).value = a;
    else this.slot(a).value = b ?? 0;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  /** The text exposition of every metric, in definition order. */
  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join("");
  }

  private add<T extends Metric>(m: T): T {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} defined twice`);
    this.metrics.set(m.name, m);
    return m;
  }
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Every metric the controller publishes, defined once. */
export function defineControllerMetrics(registry = new Registry()) {
  const c = (name: string, help: string, labels: string[] = []) => registry.counter(`neurocontroller_${name}`, help, labels);
  const g = (name: string, help: string, labels: string[] = []) => registry.gauge(`neurocontroller_${name}`, help, labels);
  return {
    registry,
    eventsProcessed: c("events_processed_total", "Informer events processed, per kind.", ["kind"]),
    anomaliesActive: g("anomalies_active", "Anomaly keys currently firing, per reason.", ["reason"]),
    anomaliesTotal: c("anomalies_total", "Anomalies that began firing, per reason.", ["reason"]),
    informerRestarts: c("informer_restarts_total", "Informer restarts after errors, per resource.", ["resource"]),
    watchLag: g("watch_lag_seconds", "Seconds since the newest informer event was processed (grows while watches stall)."),
    isLeader: g("is_leader", "1 while this controller holds the leader lease, else 0."),
    logLinesWritten: c("log_lines_written_total", "Lines appended to cleaned_events.log."),
    logWriteErrors: c("log_write_errors_total", "Failed attempts to append to cleaned_events.log."),
    logLinesPending: g("log_lines_pending", "Lines waiting to be written to cleaned_events.log."),
    logLinesDropped: c("log_lines_dropped_total", "Lines dropped because the pending buffer of cleaned_events.log was full."),
    rawPoolEntries: g("raw_pool_entries", "Records in the Cleaner's raw pool."),
    cleanedPoolEntries: g("cleaned_pool_entries", "Entries in the Cleaner's cleaned (deduplicated) pool."),
    rawPoolDropped: c("raw_pool_dropped_total", "Raw records dropped because the raw pool was at NEURO_RAW_POOL_MAX."),
    incidentsOpen: g("incidents_open", "Incidents currently open."),
    alertCycles: c("alert_cycles_total", "Alert pipeline steps run (leader only)."),
    notificationsSent: c("notifications_sent_total", "Notifications acknowledged by their receiver, per channel.", ["channel"]),
    notificationRetries: c("notification_retries_total", "Failed delivery attempts that will be retried, per channel.", ["channel"]),
    notificationsFailed: c("notifications_failed_total", "Notifications dead-lettered after a permanent error, per channel.", ["channel"]),
    channelUp: g("channel_up", "1 while an enabled alert channel could be started with its settings, 0 when it failed (see /readyz for why).", [
      "channel",
    ]),
    handlerErrors: c(
      "handler_errors_total",
      "Exceptions caught in message and event handlers (logged as JSON; the handler's input is skipped), per handler.",
      ["handler"],
    ),
    outboxPending: g("outbox_pending", "Notifications persisted and not yet acknowledged, per channel.", ["channel"]),
    malformedCommands: c("malformed_commands_total", "Rejected messages on the MQTT command topic."),
    malformedInput: c("malformed_input_total", "Input refused at a boundary (schema, size, signature), per source.", ["source"]),
    ruleErrors: c("rule_errors_total", "Objects a rule could not evaluate (malformed), per kind.", ["kind"]),
    inputTruncated: c(
      "input_truncated_total",
      "Strings from the API server cut to the length bound (messages, annotations, …) before they were kept.",
    ),
    sharedStateDropped: g(
      "shared_state_dropped_entries",
      "Logged entries left out of the last shared-state ConfigMap write (oldest first) to keep it under 512 KiB.",
    ),
  };
}

export type ControllerMetrics = ReturnType<typeof defineControllerMetrics>;
