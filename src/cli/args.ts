import { Config, ConfigError } from "../config/load.ts";
import type { ConfigKey } from "../config/schema.ts";

// Minimal flag parser: `--flag value`, `--flag=value`, boolean `--flag`, positionals.
// Flags that name config keys override the environment (see FLAG_TO_KEY).

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export class UsageError extends Error {}

/** `known`, when given, lists the flags accepted besides --help, --config and the configuration flags. */
export function parseArgs(argv: string[], booleanFlags: readonly string[] = [], known?: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (known && !isKnown(name, known)) throw new UsageError(`unknown flag --${name}`);
    if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (booleanFlags.includes(name) || name === "help") flags.set(name, true);
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
      i++;
    }
  }
  return { positionals, flags };
}

/** Command-line flags that set configuration keys. */
export const FLAG_TO_KEY: Record<string, ConfigKey> = {
  "log-dir": "NEURO_LOG_DIR",
  "state-dir": "NEURO_STATE_DIR",
  "http-addr": "NEURO_HTTP_ADDR",
  "cluster-id": "CLUSTER_ID",
  "log-level": "NEURO_LOG_LEVEL",
};

export const CONFIG_FLAGS_HELP = `Configuration flags (override the environment):
  --config FILE        env-style file of KEY=VALUE lines (also NEURO_CONFIG_FILE)
  --log-dir DIR        NEURO_LOG_DIR
  --state-dir DIR      NEURO_STATE_DIR
  --http-addr H:P      NEURO_HTTP_ADDR
  --cluster-id ID      CLUSTER_ID
  --log-level LEVEL    NEURO_LOG_LEVEL`;

export function configOverrides(args: ParsedArgs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const v = args.flags.get(flag);
    if (typeof v === "string") out[key] = v;
  }
  return out;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

function isKnown(name: string, known: readonly string[]): boolean {
  return name === "help" || name === "config" || known.includes(name) || name in FLAG_TO_KEY;
}

/** Thrown when the configuration is invalid; main prints it and exits 2. */
export class ConfigUsageError extends Error {}

/**
 * The configuration as every command reads it: defaults < --config file < environment < flags.
 * Invalid values become a ConfigUsageError naming each key (exit 2).
 */
export function loadCommandConfig(args: ParsedArgs, env?: Record<string, string | undefined>, forced: Record<string, string> = {}): Config {
  try {
    return Config.load({ env, file: stringFlag(args, "config"), overrides: { ...configOverrides(args), ...forced } });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigUsageError(e.message);
    throw e;
  }
}
