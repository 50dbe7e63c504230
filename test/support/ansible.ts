// Runs the project's playbook (ansible/site.yml) with Debian's ansible-playbook, asynchronously (a
// simulator may be serving from the test process), and parses the PLAY RECAP.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ANSIBLE_DIR = resolve(import.meta.dir, "../../ansible");

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

export interface PlaybookRun {
  code: number;
  output: string;
  /** Per host, from the PLAY RECAP. */
  recap: Record<string, Recap>;
  /** Names of tasks that reported "changed" (from the default callback's "changed: [host]" lines). */
  changedTasks: string[];
  seconds: number;
}

/** Writes an inventory (JSON is valid YAML) into a fresh temp dir and returns its path. */
export function writeInventory(inventory: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "neuro-ansible-"));
  const file = join(dir, "inventory.yml");
  writeFileSync(file, JSON.stringify(inventory, null, 2), { mode: 0o600 });
  return file;
}

export function parseRecap(output: string): Record<string, Recap> {
  const recap: Record<string, Recap> = {};
  const start = output.lastIndexOf("PLAY RECAP");
  if (start < 0) return recap;
  for (const line of output.slice(start).split("\n").slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const fields = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])]));
    recap[m[1]!] = {
      ok: fields.ok ?? 0,
      changed: fields.changed ?? 0,
      unreachable: fields.unreachable ?? 0,
      failed: fields.failed ?? 0,
      skipped: fields.skipped ?? 0,
    };
  }
  return recap;
}

function changedTasks(output: string): string[] {
  const out: string[] = [];
  let task = "";
  for (const line of output.split("\n")) {
    const t = /^(?:TASK|RUNNING HANDLER) \[(.*)\]/.exec(line);
    if (t) task = t[1]!;
    else if (/^changed: \[/.test(line)) out.push(task);
  }
  return out;
}

export async function runPlaybook(inventory: string, extraArgs: string[] = [], log: (l: string) => void = console.log): Promise<PlaybookRun> {
  const started = Date.now();
  const cmd = ["ansible-playbook", "-i", inventory, "site.yml", ...extraArgs];
  log(`$ ${cmd.join(" ")}`);
  const p = Bun.spawn(cmd, {
    cwd: ANSIBLE_DIR,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ANSIBLE_CONFIG: join(ANSIBLE_DIR, "ansible.cfg"), ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0" },
  });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  const output = out + err;
  const run = { code, output, recap: parseRecap(out), changedTasks: changedTasks(out), seconds: (Date.now() - started) / 1000 };
  log(`ansible-playbook ${extraArgs.join(" ")} exited ${code} in ${run.seconds.toFixed(1)} s: ${JSON.stringify(run.recap)}`);
  return run;
}
