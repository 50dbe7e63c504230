// Every subcommand, registered in one place.
import type { Command } from "./command.ts";
import { checkConfigCommand } from "./check-config.ts";
import { controllerCommand } from "./controller.ts";
import { demoCommand } from "./demo.ts";
import { scanCommand } from "./scan.ts";
import { simCommand } from "./sim.ts";
import { versionCommand } from "./version.ts";
import { alertsCommand } from "./alerts.ts";
import { statusCommand } from "./status.ts";
import { agentCommand } from "./agent.ts";
import { traceCommand } from "./trace-top.ts";

export const COMMANDS: Command[] = [controllerCommand, scanCommand, demoCommand, checkConfigCommand, simCommand, versionCommand, agentCommand, traceCommand, alertsCommand, statusCommand];
