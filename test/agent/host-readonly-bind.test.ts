// The agent's systemd unit has ProtectSystem=strict: "/" is bind-mounted read-only in the agent's own mount
// namespace, and /proc/mounts there says "ro". That must not raise RootFilesystemReadOnly on every node:
// the snapshot reads the superblock's options (mountinfo). Reproduced for real with unshare(1) as root.
import { describe, expect, test } from "bun:test";
import { command, FLAVORS } from "../support/controller.ts";

const canUnshare = process.getuid?.() === 0 && !!Bun.which("unshare");

describe.skipIf(!canUnshare)("read-only bind of / in the agent's namespace (ProtectSystem=strict)", () => {
  test("/proc/mounts says ro there, the snapshot says the root filesystem is not read-only", async () => {
    const agent = command(FLAVORS.at(-1)!, ["agent", "--host-snapshot", "--node", "ns-test"])
      .map((a) => `'${a}'`)
      .join(" ");
    const script = `mount --make-rprivate / && mount -o remount,bind,ro / && grep ' / ' /proc/mounts | head -1 && echo --- && exec ${agent}`;
    const p = Bun.spawn(["unshare", "-m", "sh", "-c", script], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code, err).toBe(0);
    const [mounts, json] = out.split("---\n");
    expect(mounts!.split(" ")[3]!.split(",")).toContain("ro");
    expect(JSON.parse(json!).rootFs.readOnly).toBe(false);
  });
});
