import type { ParsedArgs } from "./args.ts";

export interface Command {
  name: string;
  /** Full --help text. */
  usage: string;
  /** Flags taking no value. */
  booleanFlags?: readonly string[];
  /** Flags the command accepts besides the configuration flags. */
  flags: readonly string[];
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, error: 1, usage: 2, firing: 3 } as const;
