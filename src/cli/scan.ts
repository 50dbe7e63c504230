import { scanCluster } from "../controller/snapshot.ts";
import { KubeClient } from "../kube/client.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { toLogLine } from "../diagnosis/log-writer.ts";
import { CONFIG_FLAGS_HELP, UsageError, loadCommandConfig, stringFlag } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { termText } from "../boundary/terminal.ts";
import { renderTable } from "./table.ts";

export const scanCommand: Command = {
  name: "scan",
  usage: `Usage: neurocontroller scan [--kubeconfig PATH] [--context NAME] [--output json|table]

Lists every watched kind once and evaluates every rule once. Durations are judged from the
objects' own timestamps, so a scan right after a restart gives the same answer as a long-running
controller. Where no timestamp dates a state (a Service whose endpoints hold no ready address, a
replica shortfall without an Available condition), the objects' last recorded write
(managedFields) is used; lacking any, the anomaly is printed with "duration unknown".
Restart rates (HighRestartRate) need restart counts sampled over time: scan reports one only
for a Pod started within RULE_POD_RESTART_WINDOW, whose every restart happened inside it; for
older Pods only the controller can tell.

Output: json = JSON Lines with the cleaned_events.log fields; table (default on a terminal).
Exit codes: 0 no anomaly, 3 anomalies firing, 1 cluster unreachable or other error, 2 usage or configuration error.

${CONFIG_FLAGS_HELP}`,
  flags: ["kubeconfig", "context", "output"],
  async run(args) {
    const output = stringFlag(args, "output") ?? (process.stdout.isTTY ? "table" : "json");
    if (output !== "json" && output !== "table") throw new UsageError(`--output must be json or table, not '${output}'`);
    const config = loadCommandConfig(args);
    const conn = loadConnection({ kubeconfig: stringFlag(args, "kubeconfig"), context: stringFlag(args, "context") });
    if (!conn) {
      console.error("scan: no cluster found (no --kubeconfig, $KUBECONFIG, in-cluster service account, ~/.kube/config or /etc/rancher/k3s/k3s.yaml)");
      return EXIT.error;
    }
    const now = Date.now();
    let snapshot: Awaited<ReturnType<typeof scanCluster>>;
    const client = new KubeClient(conn);
    try {
      snapshot = await scanCluster(client, config, now);
    } catch (e) {
      // The message may quote the server's answer: printed as text, never as terminal control.
      console.error(`scan: cannot list the cluster at ${termText(conn.server)}: ${termText((e as Error)?.message ?? e)}`);
      return EXIT.error;
    }
    if (output === "json") {
      for (const a of snapshot.anomalies) console.log(JSON.stringify(toLogLine(a, now, "firing")));
    } else {
      const rows = snapshot.anomalies.map((a) => [
        a.severity.toUpperCase(),
        a.kind,
        a.namespace ? `${a.namespace}/${a.name}` : a.name,
        a.node,
        a.reason,
        a.message,
      ]);
      console.log(renderTable(["SEVERITY", "KIND", "OBJECT", "NODE", "REASON", "MESSAGE"], rows));
      const total = Object.values(snapshot.listed).reduce((s, n) => s + n, 0);
      console.error(
        `${snapshot.anomalies.length} anomalies in ${total} objects (${Object.entries(snapshot.listed)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")})`,
      );
    }
    if (client.stats.malformedItems) console.error(`skipped ${client.stats.malformedItems} listed objects without usable metadata (malformed)`);
    if (snapshot.skipped.length) console.error(`not served by this API server, skipped: ${snapshot.skipped.join(", ")}`);
    return snapshot.anomalies.length ? EXIT.firing : EXIT.ok;
  },
};
