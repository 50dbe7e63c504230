// The class of issue 10's 25d timer, on command-line flags: a duration a command sleeps or ticks on is
// bounded like every configured one (past 2^31-1 ms, setInterval/sleep fire after 1 ms).
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../../..");

async function run(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

test("demo --duration past a day is a usage error, not a demo that ends at once", async () => {
  const r = await run(["demo", "--duration", "25d"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--duration: expected a duration such as 80s or 2m of at most 24h, not '25d'");
}, 30_000);

test("trace top --interval and --limit are bounded", async () => {
  const env = { MQTT_URL: "mqtt://127.0.0.1:9" };
  for (const interval of ["25d", "0", "2e10", "soon"]) {
    const r = await run(["trace", "top", "--interval", interval], env);
    expect(`${interval}: ${r.code}`).toBe(`${interval}: 2`);
    expect(r.err).toContain("--interval: expected a duration from 100ms to 1h");
  }
  const r = await run(["trace", "top", "--limit", "1.5"], env);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--limit: expected a whole number from 1 to 10000");
}, 60_000);
