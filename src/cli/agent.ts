import { Agent, agentOptionsFromConfig } from "../../agent/agent.ts";
import { collectHostSnapshot } from "../../agent/host-health.ts";
import { runHostOnly } from "../../agent/host-only.ts";
import { AgentEnvironmentError } from "../../agent/libbpf.ts";
import { runSelfTest } from "../../agent/self-test.ts";
import { Config, ConfigError } from "../config/load.ts";
import { createLogger, secretsOf } from "../log.ts";
import { configOverrides, CONFIG_FLAGS_HELP, stringFlag } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

export const agentCommand: Command = {
  name: "agent",
  usage: `Usage: neurocontroller agent [--node NAME] [--socket PATH]
       neurocontroller agent --self-test
       neurocontroller agent --host-only [--node NAME]
       neurocontroller agent --host-snapshot [--node NAME]

Loads the syscall-latency eBPF program (no kernel BTF needed), accepts PID/TID↔trace bindings on
the Unix socket AGENT_SOCKET_PATH and on MQTT <prefix>/trace/bind/<node>, and publishes syscall
spans of bound processes to <prefix>/spans/<node> (MQTT_URL). Stops cleanly on SIGTERM/SIGINT.
Needs root or CAP_BPF + CAP_PERFMON, libbpf.so.1 (apt install libbpf1) and tracefs (mounted if missing).

Exit codes: 0 stopped by signal, 1 eBPF/broker unavailable (the reason is printed), 2 configuration error.

--self-test checks that this node can trace, without MQTT or configuration: preflight (privileges,
libbpf, tracefs), load of the shipped object with kernel BTF lookup pointed at a nonexistent file,
attach, a child process it starts bound and its sleep (clock_nanosleep) measured — itself and in a
forked child (inheritance) — then unbind and detach. Prints "self-test: ok arch=… kernel=… observed …";
exits 0 when the node can trace, 1 with the reason (which capability, file or kernel feature) when not.
Run it as the agent runs (root, or CAP_BPF + CAP_PERFMON).

  --node NAME      AGENT_NODE_NAME (default: host name)
  --socket PATH    AGENT_SOCKET_PATH (empty string disables the socket)
  --self-test      check the node and exit (see above)
  --host-only      publish host health only (no eBPF, no bind socket): for nodes that cannot trace
  --host-snapshot  print this node's host-health snapshot (JSON, docs/host-health.md) and exit

Host health (HOST_HEALTH_ENABLE, HOST_HEALTH_INTERVAL): SoC temperature, firmware throttling flags,
root filesystem, SD/eMMC wear, I/O errors, clock, memory, load, published retained on <prefix>/hosts/<node>.

${CONFIG_FLAGS_HELP}`,
  flags: ["node", "socket", "self-test", "host-only", "host-snapshot"],
  booleanFlags: ["self-test", "host-only", "host-snapshot"],
  async run(args) {
    if (args.flags.get("self-test")) return runSelfTest();
    let config: Config;
    const overrides = configOverrides(args);
    const node = stringFlag(args, "node");
    const socket = stringFlag(args, "socket");
    if (node !== undefined) overrides.AGENT_NODE_NAME = node;
    if (socket !== undefined) overrides.AGENT_SOCKET_PATH = socket;
    try {
      config = Config.load({ file: stringFlag(args, "config"), overrides });
    } catch (e) {
      if (e instanceof ConfigError) {
        console.error(e.message);
        return EXIT.usage;
      }
      throw e;
    }
    if (args.flags.get("host-snapshot")) {
      const opts = agentOptionsFromConfig(config);
      const snapshot = await collectHostSnapshot({
        node: opts.node,
        root: config.str("NEURO_HOST_ROOT"),
        intervalMs: config.ms("HOST_HEALTH_INTERVAL"),
      });
      console.log(JSON.stringify(snapshot, null, 2));
      return EXIT.ok;
    }
    if (!config.str("MQTT_URL")) {
      console.error("agent: MQTT_URL is not set: spans go to the controller over MQTT (e.g. MQTT_URL=mqtt://controller:1883)");
      return EXIT.usage;
    }
    const log = createLogger({ level: config.str("NEURO_LOG_LEVEL"), secrets: secretsOf(config), service: "neurocontroller-agent" });
    if (args.flags.get("host-only")) return runHostOnly(config, log);
    let agent: Agent;
    try {
      agent = await Agent.start(agentOptionsFromConfig(config, log));
    } catch (e) {
      if (e instanceof AgentEnvironmentError) {
        console.error(`agent: ${e.message}`);
        return EXIT.error;
      }
      throw e;
    }
    log.info("agent running", { spansTopic: agent.topics.spans, bindTopic: agent.topics.bind });
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info("stopping", { signal });
    await agent.stop();
    log.info("stopped", agent.stats());
    return EXIT.ok;
  },
};
