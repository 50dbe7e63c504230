import { describe, expect, test } from "bun:test";
import { Counter, defineControllerMetrics, Gauge, Registry } from "../../../src/http/metrics.ts";

describe("Prometheus text format", () => {
  test("HELP, TYPE and samples; label-less metrics exposed as 0 before use", () => {
    const r = new Registry();
    const c = r.counter("demo_events_total", "Events seen.", ["kind"]);
    const g = r.gauge("demo_up", "Whether it is up.");
    c.inc({ kind: "Pod" });
    c.inc({ kind: "Pod" }, 2);
    c.inc({ kind: "Node" });
    expect(r.render()).toBe(
      [
        "# HELP demo_events_total Events seen.",
        "# TYPE demo_events_total counter",
        'demo_events_total{kind="Pod"} 3',
        'demo_events_total{kind="Node"} 1',
        "# HELP demo_up Whether it is up.",
        "# TYPE demo_up gauge",
        "demo_up 0",
        "",
      ].join("\n"),
    );
    g.set(1);
    expect(r.render()).toContain("\ndemo_up 1\n");
  });

  test("label values and help text are escaped", () => {
    const r = new Registry();
    const g = r.gauge("demo_g", "Line one\nback\\slash", ["a", "b"]);
    g.set({ a: 'say "hi"\nback\\slash', b: "x" }, 1.5);
    expect(r.render()).toBe("# HELP demo_g Line one\\nback\\\\slash\n# TYPE demo_g gauge\n" + 'demo_g{a="say \\"hi\\"\\nback\\\\slash",b="x"} 1.5\n');
  });

  test("special values, reset and validation", () => {
    const g = new Gauge("demo_lag_seconds", "Lag.", ["r"]);
    g.set({ r: "inf" }, Infinity);
    g.set({ r: "nan" }, NaN);
    g.set({ r: "neg" }, -Infinity);
    expect(g.render()).toContain('demo_lag_seconds{r="inf"} +Inf\ndemo_lag_seconds{r="nan"} NaN\ndemo_lag_seconds{r="neg"} -Inf\n');
    g.reset();
    expect(g.render()).toBe("# HELP demo_lag_seconds Lag.\n# TYPE demo_lag_seconds gauge\n");
    expect(() => new Counter("bad-name", "x")).toThrow();
    expect(() => new Counter("ok", "x", ["__reserved"])).toThrow();
    expect(() => new Counter("ok", "x", ["kind"]).inc({ nope: "1" })).toThrow(/no label nope/);
    expect(() => new Counter("ok", "x").inc(-1)).toThrow(/cannot decrease/);
    const r = new Registry();
    r.counter("dup", "x");
    expect(() => r.gauge("dup", "y")).toThrow(/twice/);
  });

  test("counters publish totals kept elsewhere without moving backwards", () => {
    const c = new Counter("demo_dropped_total", "Dropped.");
    c.advanceTo(5);
    c.advanceTo(3);
    expect(c.get()).toBe(5);
    expect(new Counter("x_total", "x", ["k"]).get({ k: "never" })).toBe(0);
  });

  test("the controller's metrics are defined once with their names", () => {
    const m = defineControllerMetrics();
    m.eventsProcessed.inc({ kind: "Pod" });
    m.anomaliesActive.set({ reason: "NotReady" }, 2);
    m.informerRestarts.inc({ resource: "pods" });
    const text = m.registry.render();
    for (const name of [
      "neurocontroller_events_processed_total",
      "neurocontroller_anomalies_active",
      "neurocontroller_anomalies_total",
      "neurocontroller_informer_restarts_total",
      "neurocontroller_watch_lag_seconds",
      "neurocontroller_is_leader",
      "neurocontroller_log_lines_written_total",
      "neurocontroller_log_write_errors_total",
      "neurocontroller_raw_pool_entries",
      "neurocontroller_cleaned_pool_entries",
      "neurocontroller_raw_pool_dropped_total",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('neurocontroller_events_processed_total{kind="Pod"} 1\n');
    expect(text).toContain("neurocontroller_is_leader 0\n");
    expect(() => defineControllerMetrics(m.registry)).toThrow(/twice/);
  });
});
