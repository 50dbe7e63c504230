// Where `demo` (and `controller` without a cluster) keeps its files: ./.neurocontroller-demo from a
// checkout, $NEURO_STATE_DIR/demo when a state directory is configured (systemd: /var/lib/neurocontroller),
// never the real state directory itself.
import { expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { parseArgs } from "../../../src/cli/args.ts";
import { demoPaths } from "../../../src/cli/demo.ts";

const paths = (argv: string[], env: Record<string, string> = {}) => demoPaths(parseArgs(argv, ["keep-running"]), env);

test("from a checkout: ./.neurocontroller-demo, log and state inside it", () => {
  const dir = resolve(".neurocontroller-demo");
  expect(paths([])).toEqual({ dir, logDir: join(dir, "log"), stateDir: join(dir, "state") });
});

test("NEURO_STATE_DIR configured (systemd): <state dir>/demo with its own state; NEURO_LOG_DIR is used for the log", () => {
  expect(paths([], { NEURO_STATE_DIR: "/var/lib/neurocontroller", NEURO_LOG_DIR: "/var/log/neurocontroller" })).toEqual({
    dir: "/var/lib/neurocontroller/demo",
    logDir: "/var/log/neurocontroller",
    stateDir: "/var/lib/neurocontroller/demo/state",
  });
  expect(paths(["--state-dir", "/srv/nc"]).dir).toBe("/srv/nc/demo");
});

test("--dir wins", () => {
  expect(paths(["--dir", "/tmp/d"], { NEURO_STATE_DIR: "/srv/nc" })).toEqual({ dir: "/tmp/d", logDir: "/tmp/d/log", stateDir: "/tmp/d/state" });
});

test("the fallback (controller without a cluster) never logs into the real NEURO_LOG_DIR: its anomalies are made up", () => {
  const env = { NEURO_STATE_DIR: "/var/lib/neurocontroller", NEURO_LOG_DIR: "/var/log/neurocontroller" };
  expect(demoPaths(parseArgs([], ["keep-running"]), env, true).logDir).toBe("/var/lib/neurocontroller/demo/log");
});
