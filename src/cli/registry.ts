// Every subcommand, registered in one place (the order is the order of `--help`).
import type { Command } from "./command.ts";
import { agentCommand } from "./agent.ts";
import { alertsCommand } from "./alerts.ts";
import { auditCommand } from "./audit.ts";
import { changesCommand } from "./changes.ts";
import { checkConfigCommand } from "./check-config.ts";
import { controllerCommand } from "./controller.ts";
import { demoCommand } from "./demo.ts";
import { healCommand } from "./heal.ts";
import { hostsCommand } from "./hosts.ts";
import { scanCommand } from "./scan.ts";
import { silenceCommand } from "./silence.ts";
import { simCommand } from "./sim.ts";
import { sloCommand } from "./slo.ts";
import { statusCommand } from "./status.ts";
import { traceCommand } from "./trace-top.ts";
import { versionCommand } from "./version.ts";

export const COMMANDS: Command[] = [
  controllerCommand,
  agentCommand,
  scanCommand,
  alertsCommand,
  statusCommand,
  hostsCommand,
  silenceCommand,
  sloCommand,
  healCommand,
  changesCommand,
  auditCommand,
  traceCommand,
  demoCommand,
  simCommand,
  checkConfigCommand,
  versionCommand,
];
