// ansible-lint at the strictest shipped profile (production) over ansible/: the playbook users run must
// lint clean, not only work. Offline: ansible-lint reads only the repository (no Galaxy installs).
import { expect, test } from "bun:test";
import { resolve } from "node:path";

test("ansible-lint --profile production passes on ansible/ with 0 failures and 0 warnings", async () => {
  if (!Bun.which("ansible-lint")) throw new Error("ansible-lint missing: apt-get install ansible-lint");
  const p = Bun.spawn(["ansible-lint", "--offline", "--profile", "production", "--nocolor"], {
    cwd: resolve(import.meta.dir, "../../ansible"),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ANSIBLE_NOCOLOR: "1", NO_COLOR: "1" },
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const text = out + err;
  console.log(`[ansible-lint] ${text.trim().split("\n").slice(-1)[0]}`);
  expect(text).toMatch(/Passed with production profile: 0 failure\(s\), 0 warning\(s\) on \d+ files/);
  expect(code).toBe(0);
}, 300_000);
