import { termText } from "../boundary/terminal.ts";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDuration } from "../config/units.ts";
import { startDemoCluster } from "../sim/demo-cluster.ts";
import { ControllerRuntime } from "../controller/runtime.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { createLogger, secretsOf } from "../log.ts";
import { demoStory, playStory } from "../sim/kit.ts";
import { CONFIG_FLAGS_HELP, UsageError, loadCommandConfig, stringFlag, type ParsedArgs } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { waitForSignal } from "./signals.ts";

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
  NEURO_HTTP_ADDR: "127.0.0.1:0",
  NEURO_LOG_LEVEL: "warn",
};

export const demoCommand: Command = {
  name: "demo",
  usage: `Usage: neurocontroller demo [--duration 80s] [--keep-running] [--dir DIR]

Starts the Kubernetes API simulator (HTTPS, client-certificate auth) with a healthy cluster, plays
a story — a crash loop, an image pull failure, a node going NotReady, a deployment and its service
losing every ready replica, an OOM kill — and runs the controller against it. Every line the
controller writes to cleaned_events.log is printed as it happens, so you see anomalies fire and
resolve within a minute. After the story the cluster stays healthy (one line says so) until the end.
NEURO_DEMO_STORY_SPEED plays the story faster (2 = twice as fast). The demo cluster is private to this
process, so no leader is elected (LEADER_ELECTION is ignored).

Files go to DIR: by default $NEURO_STATE_DIR/demo when NEURO_STATE_DIR is configured (environment,
--config file or --state-dir; under systemd /var/lib/neurocontroller/demo), else
./.neurocontroller-demo. The demo keeps its own state in DIR/state (never the real state.db) and
writes cleaned_events.log to NEURO_LOG_DIR when that is configured, else to DIR/log.

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
  return `${termText(l.time).slice(11, 19)} ${status} ${termText(l.severity).padEnd(8)} ${termText(l.kind)} ${termText(obj)} ${termText(l.reason)}: ${termText(l.message)}`;
}

/** Where a demo run keeps its files (see the usage text above). The fallback (controller without a
 * cluster) never writes the real cleaned_events.log: what it logs is made up. */
export function demoPaths(
  args: ParsedArgs,
  env: Record<string, string | undefined> = process.env,
  fallback = false,
): { dir: string; logDir: string; stateDir: string } {
  const user = loadCommandConfig(args, env);
  const configured = new Map(user.describe().map((d) => [d.key, d.source !== "default"]));
  const explicit = stringFlag(args, "dir");
  const dir = resolve(explicit ?? (configured.get("NEURO_STATE_DIR") ? join(user.str("NEURO_STATE_DIR"), "demo") : ".neurocontroller-demo"));
  return {
    dir,
    logDir: configured.get("NEURO_LOG_DIR") && !fallback ? user.str("NEURO_LOG_DIR") : join(dir, "log"),
    // Always the demo's own: a node that later gets a real cluster must not inherit the demo's state.
    stateDir: join(dir, "state"),
  };
}

/** $KUBECONFIG entries that exist but configure nothing (only comments), e.g. neurocontroller.service's
 * SetCredential= placeholder for a missing /etc/neurocontroller/kubeconfig: their first comment says why. */
function placeholderNotes(env: Record<string, string | undefined>): string[] {
  const notes: string[] = [];
  for (const p of (env.KUBECONFIG ?? "").split(":").filter(Boolean)) {
    try {
      const lines = readFileSync(p, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      if (lines.every((l) => l.startsWith("#"))) notes.push(`$KUBECONFIG ${p}: ${lines[0]?.replace(/^#+\s*/, "") ?? "empty"}`);
    } catch {}
  }
  return notes;
}

const DEMO_MAX_MS = 86_400_000;

export const STORY_FINISHED =
  "story finished — the cluster is healthy now; Ctrl-C to stop, or `neurocontroller scan --kubeconfig …` on your own cluster";

/**
 * No leader election, whatever the node's configuration says: the demo cluster lives inside this process
 * and no other controller can reach it, so a Lease elects nobody — and a pause of this one event loop
 * longer than the renew deadline (a suspended laptop, Ctrl-Z, a busy Pi) used to read as "lost
 * leadership; standing by", a warning about nothing.
 */
const DEMO_FORCED = { LEADER_ELECTION: "false" };

/** What the fallback demo must not do with its made-up anomalies: alert the user's real channels. */
const FALLBACK_CHANNELS_OFF = { ENABLE_SLACK_ALERT: "false", ENABLE_EMAIL_ALERT: "false", ENABLE_MQTT_ALERT: "false" };

/** `fallback`: run by `controller` because no cluster is configured (a node not yet in a cluster), as
 * opposed to a `demo` the user asked for: its log stays in the demo directory and no channel is alerted. */
export async function runDemo(args: ParsedArgs, opts: { keepRunning: boolean; fallback?: boolean }): Promise<number> {
  const durationText = stringFlag(args, "duration") ?? "80s";
  const durationMs = parseDuration(durationText);
  // A sleep past 2^31-1 ms would end at once: the demo runs at most a day.
  if (durationMs === undefined || durationMs > DEMO_MAX_MS)
    throw new UsageError(`--duration: expected a duration such as 80s or 2m of at most 24h, not '${durationText}'`);
  const fallback = opts.fallback === true;
  const { dir, logDir, stateDir } = demoPaths(args, process.env, fallback);
  for (const note of placeholderNotes(process.env)) console.error(note);
  if (fallback)
    console.error(
      `demo cluster only: its anomalies are made up, so they go to ${join(logDir, "cleaned_events.log")} and to no alert channel (run 'neurocontroller demo' to try your channels with them)`,
    );
  // The demo's directories win over --log-dir/--state-dir (they were taken into account above).
  const flags = new Map([...args.flags].filter(([k]) => k !== "log-dir" && k !== "state-dir"));
  const env: Record<string, string | undefined> = { ...DEMO_DEFAULTS, ...process.env, NEURO_LOG_DIR: logDir, NEURO_STATE_DIR: stateDir };
  const config = loadCommandConfig({ ...args, flags }, env, fallback ? { ...DEMO_FORCED, ...FALLBACK_CHANNELS_OFF } : DEMO_FORCED);
  const tty = process.stdout.isTTY === true;
  // Every demo starts a fresh simulated cluster, so what an earlier demo logged means nothing now.
  rmSync(stateDir, { recursive: true, force: true });
  const cluster = await startDemoCluster(dir);
  const connection = loadConnection({ kubeconfig: cluster.kubeconfig })!;
  console.log(`demo cluster: ${cluster.sim.url} (kubeconfig ${cluster.kubeconfig}, files in ${dir})`);
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
  const cyan = (text: string) => (tty ? `\x1b[36m${text}\x1b[0m` : text);
  const story = playStory(demoStory(cluster.sim.store), {
    speed: config.num("NEURO_DEMO_STORY_SPEED"),
    onStep: (s) => console.log(cyan(`── t+${Math.round(s.atMs / 1000)}s ${s.description}`)),
  });
  // The cluster stays as the story left it (healthy) for as long as the controller runs.
  void story.done.then((finished) => {
    if (finished) console.log(cyan(STORY_FINISHED));
  });
  if (opts.keepRunning) await waitForSignal();
  else await Promise.race([waitForSignal(), Bun.sleep(durationMs)]);
  story.stop();
  await runtime.stop();
  await cluster.stop();
  console.log(`\n${firing} anomalies fired, ${resolved} resolved. Try: neurocontroller scan --kubeconfig <a real cluster>`);
  return EXIT.ok;
}
