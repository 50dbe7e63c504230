import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDuration } from "../config/load.ts";
import { startDemoCluster } from "../controller/demo-cluster.ts";
import { ControllerRuntime } from "../controller/runtime.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { createLogger, secretsOf } from "../log.ts";
import { demoStory, playStory } from "../sim/scenarios.ts";
import { CONFIG_FLAGS_HELP, UsageError, loadCommandConfig, stringFlag, type ParsedArgs } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { waitForSignal } from "./controller.ts";

/** Short timings so the story's failures fire and resolve within seconds; env and flags still win. */
const DEMO_DEFAULTS: Record<string, string> = {
  DIAGNOSIS_WRITE_INTERVAL: "1s",
  DIAGNOSIS_CLEAN_INTERVAL: "1s",
  NEURO_EVALUATE_INTERVAL: "1s",
  RULE_NODE_NOT_READY_FOR: "5s",
  RULE_POD_NOT_READY_FOR: "5s",
  RULE_DEPLOYMENT_UNAVAILABLE_FOR: "5s",
  DIAGNOSIS_UNREADY_THRESHOLD_DURATION: "5s",
  RULE_ENDPOINTS_EMPTY_FOR: "3s",
  RULE_EVENT_MAX_AGE: "15s",
  RULE_POD_RESTART_WINDOW: "15s",
  LEADER_LEASE_DURATION: "5s",
  LEADER_RENEW_DEADLINE: "4s",
  LEADER_RETRY_PERIOD: "1s",
  NEURO_HTTP_ADDR: "127.0.0.1:0",
  NEURO_LOG_LEVEL: "warn",
};

export const demoCommand: Command = {
  name: "demo",
  summary: "Run the controller against the built-in simulated cluster and a scripted story of failures",
  usage: `Usage: neurocontroller demo [--duration 80s] [--keep-running] [--dir DIR]

Starts the Kubernetes API simulator (HTTPS, client-certificate auth) with a healthy cluster, plays
a story — a crash loop, an image pull failure, a node going NotReady, a deployment and its service
losing every ready replica, an OOM kill — and runs the controller against it. Every line the
controller writes to cleaned_events.log is printed as it happens, so you see anomalies fire and
resolve within a minute. Files go to DIR (default ./.neurocontroller-demo).

  --duration D     stop after D (default 80s: the story plus time for the last lines)
  --keep-running   keep going after the story until Ctrl-C

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["keep-running"],
  flags: ["duration", "keep-running", "dir"],
  run: (args) => runDemo(args, { keepRunning: args.flags.get("keep-running") === true }),
};

function formatLine(l: Record<string, unknown>, tty: boolean): string {
  const colour = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  const status = l.status === "resolved" ? colour(32, "RESOLVED") : colour(l.severity === "critical" ? 31 : 33, "FIRING  ");
  const obj = l.namespace ? `${l.namespace}/${l.name}` : String(l.name);
  return `${String(l.time).slice(11, 19)} ${status} ${String(l.severity).padEnd(8)} ${l.kind} ${obj} ${l.reason}: ${l.message}`;
}

export async function runDemo(args: ParsedArgs, opts: { keepRunning: boolean }): Promise<number> {
  const dir = resolve(stringFlag(args, "dir") ?? ".neurocontroller-demo");
  const durationText = stringFlag(args, "duration") ?? "80s";
  const durationMs = parseDuration(durationText);
  if (durationMs === undefined) throw new UsageError(`--duration: expected a duration such as 80s or 2m, not '${durationText}'`);
  const env: Record<string, string | undefined> = { NEURO_LOG_DIR: join(dir, "log"), NEURO_STATE_DIR: join(dir, "state"), ...DEMO_DEFAULTS, ...process.env };
  const config = loadCommandConfig(args, env);
  const tty = process.stdout.isTTY === true;
  // Every demo starts a fresh simulated cluster, so what an earlier demo logged means nothing now.
  rmSync(join(dir, "state"), { recursive: true, force: true });
  const cluster = await startDemoCluster(dir);
  const connection = loadConnection({ kubeconfig: cluster.kubeconfig })!;
  console.log(`demo cluster: ${cluster.sim.url} (kubeconfig ${cluster.kubeconfig})`);
  console.log(`cleaned events: ${join(config.str("NEURO_LOG_DIR"), "cleaned_events.log")}\n`);
  const logger = createLogger({ level: config.str("NEURO_LOG_LEVEL"), secrets: secretsOf(config) });
  let firing = 0;
  let resolved = 0;
  const runtime = new ControllerRuntime({
    config,
    connection,
    logger,
    onLogged: (line) => {
      if (line.status === "resolved") resolved++;
      else firing++;
      console.log(formatLine(line, tty));
    },
  });
  await runtime.start();
  const story = playStory(demoStory(cluster.sim.store), {
    onStep: (s) => console.log(`${tty ? "\x1b[36m" : ""}── t+${Math.round(s.atMs / 1000)}s ${s.description}${tty ? "\x1b[0m" : ""}`),
  });
  if (opts.keepRunning) await waitForSignal();
  else await Promise.race([waitForSignal(), Bun.sleep(durationMs)]);
  story.stop();
  await runtime.stop();
  await cluster.stop();
  console.log(`\n${firing} anomalies fired, ${resolved} resolved. Try: neurocontroller scan --kubeconfig <a real cluster>`);
  return EXIT.ok;
}
