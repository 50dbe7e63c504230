import { ControllerRuntime } from "../controller/runtime.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { createLogger, secretsOf } from "../log.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { waitForSignal } from "./signals.ts";

export const controllerCommand: Command = {
  name: "controller",
  usage: `Usage: neurocontroller controller [--kubeconfig PATH] [--context NAME]

Watches the cluster, evaluates every rule, and appends anomalies to
$NEURO_LOG_DIR/cleaned_events.log. With leader election on (LEADER_ELECTION=true), every node
may run it: one is active, the others stay synced and take over within the lease duration.

The cluster is found in this order: --kubeconfig, $KUBECONFIG, the in-cluster service account,
~/.kube/config, /etc/rancher/k3s/k3s.yaml. When none exists, it runs against the built-in demo
cluster (like 'neurocontroller demo --keep-running', but its made-up anomalies are logged only under
the demo directory and sent to no alert channel).

Stops cleanly on SIGTERM/SIGINT (final write, lease released).

${CONFIG_FLAGS_HELP}`,
  flags: ["kubeconfig", "context"],
  async run(args) {
    const config = loadCommandConfig(args);
    const connection = loadConnection({ kubeconfig: stringFlag(args, "kubeconfig"), context: stringFlag(args, "context") });
    if (!connection) {
      console.error(
        "no cluster configured (no --kubeconfig, $KUBECONFIG, service account, ~/.kube/config or k3s.yaml): running the built-in demo cluster",
      );
      // The demo (simulator, scripted story) is loaded only here: a controller with a cluster never needs it.
      const { runDemo } = await import("./demo.ts");
      return runDemo(args, { keepRunning: true, fallback: true });
    }
    const logger = createLogger({ level: config.str("NEURO_LOG_LEVEL"), secrets: secretsOf(config) });
    for (const w of config.warnings) logger.warn("configuration key ignored", { detail: w });
    // Signals are handled from the first second: start() may wait a long time for an absent API server.
    const signal = waitForSignal();
    const runtime = new ControllerRuntime({ config, connection, logger });
    const unguard = guardProcess(logger, (what) => runtime.metrics.handlerErrors.inc({ handler: what }));
    // start() resolves once everything runs; only its failure ends the wait before a signal does.
    const startFailure = runtime.start().then(
      () => new Promise<never>(() => {}),
      (e: unknown) => e,
    );
    const outcome = await Promise.race([
      signal.then((sig) => ({ sig, error: undefined })),
      startFailure.then((error) => ({ sig: undefined, error })),
    ]);
    if (outcome.error !== undefined) logger.error("controller start-up failed; stopping", { error: String(outcome.error) });
    const timeoutMs = config.ms("NEURO_SHUTDOWN_TIMEOUT");
    logger.info("stopping", { signal: outcome.sig, timeoutMs });
    const finished = await stopWithin(runtime.stop(), timeoutMs);
    if (!finished) {
      logger.error("shutdown did not finish within NEURO_SHUTDOWN_TIMEOUT; abandoning what is in flight (it stays in state.db for the next start)", {
        timeoutMs,
      });
      runtime.finalFlush();
    }
    unguard();
    return outcome.error === undefined ? EXIT.ok : EXIT.error;
  },
};

/** True when `work` settled within `ms`. */
async function stopWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return result;
}

/**
 * Last line of defence: an exception no handler caught (a library callback, a stray promise) is
 * logged as one JSON line and counted instead of printing a stack and killing — or wedging — the
 * controller. Every known handler site catches its own errors first.
 */
function guardProcess(logger: ReturnType<typeof createLogger>, count: (what: string) => void): () => void {
  const onException = (e: unknown) => {
    count("uncaught");
    logger.error("uncaught exception", {
      error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      stack: (e as Error)?.stack?.split("\n").slice(0, 6).join(" | "),
    });
  };
  const onRejection = (e: unknown) => {
    count("unhandled-rejection");
    logger.error("unhandled promise rejection", { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  };
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
