import { ControllerRuntime } from "../controller/runtime.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { createLogger, secretsOf } from "../log.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { runDemo } from "./demo.ts";

export const controllerCommand: Command = {
  name: "controller",
  summary: "Run the controller (watch → rules → cleaned_events.log); the demo cluster when no cluster is configured",
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
      console.error("no cluster configured (no --kubeconfig, $KUBECONFIG, service account, ~/.kube/config or k3s.yaml): running the built-in demo cluster");
      return runDemo(args, { keepRunning: true, fallback: true });
    }
    const logger = createLogger({ level: config.str("NEURO_LOG_LEVEL"), secrets: secretsOf(config) });
    for (const w of config.warnings) logger.warn("configuration key ignored", { detail: w });
    const runtime = new ControllerRuntime({ config, connection, logger });
    await runtime.start();
    await waitForSignal();
    logger.info("stopping");
    await runtime.stop();
    return EXIT.ok;
  },
};

export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (sig: string) => resolve(sig);
    process.once("SIGTERM", () => done("SIGTERM"));
    process.once("SIGINT", () => done("SIGINT"));
  });
}
