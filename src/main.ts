#!/usr/bin/env bun
import { ConfigUsageError, parseArgs, UsageError } from "./cli/args.ts";
import { EXIT } from "./cli/command.ts";
import { COMMANDS } from "./cli/registry.ts";

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `NeuroController — anomaly controller for Raspberry Pi / K3s clusters

Usage: neurocontroller <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'neurocontroller <command> --help' for a command's flags.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version") return main(["version"]);
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    console.error(`unknown command '${name}'\n\n${overview()}`);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    const args = parseArgs(rest, command.booleanFlags, command.flags);
    if (args.flags.get("help")) {
      console.log(command.usage);
      return EXIT.ok;
    }
    return await command.run(args);
  } catch (e) {
    if (e instanceof ConfigUsageError) {
      console.error(e.message);
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      console.error(`neurocontroller ${name}: ${e.message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    console.error(`neurocontroller ${name}: ${(e as Error).message ?? e}`);
    return EXIT.error;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
