// `neurocontroller agent --host-only`: host health without the eBPF probe, for nodes that cannot trace
// (no CAP_BPF, a kernel without raw_syscalls) but whose power, heat, disks and clock still matter.
import type { Config } from "../src/config/load.ts";
import type { Logger } from "../src/log.ts";
import { MqttConnection } from "../src/mqtt/connection.ts";
import { mqttOptionsFromConfig } from "../src/mqtt/options.ts";
import { EXIT } from "../src/cli/command.ts";
import { agentOptionsFromConfig, hostHealthOptionsFromConfig } from "./agent.ts";
import { HostHealthPublisher } from "./host-health.ts";

export async function runHostOnly(config: Config, log: Logger): Promise<number> {
  const host = hostHealthOptionsFromConfig(config);
  if (!host) {
    console.error("agent: --host-only with HOST_HEALTH_ENABLE=false has nothing to do");
    return EXIT.usage;
  }
  const { node } = agentOptionsFromConfig(config);
  const connection = new MqttConnection({
    ...mqttOptionsFromConfig(config, { announceStatus: false, clientId: `neurocontroller-agent-${node}-${process.pid}`, logger: log }),
    connectTimeoutMs: 10_000,
  });
  const publisher = new HostHealthPublisher(connection, { ...host, node }, log);
  publisher.start();
  log.info("agent running (host health only)", { hostsTopic: publisher.topic, intervalMs: host.intervalMs, root: host.root });
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info("stopping", { signal });
  await publisher.stop();
  await connection.close();
  log.info("stopped", { hostHealth: publisher.stats });
  return EXIT.ok;
}
