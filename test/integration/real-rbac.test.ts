// RBAC as shipped, held to a real kube-apiserver: deploy/rbac.yaml is everything the controller needs (it syncs, leads
// and logs no 403), and the check has teeth: with one rule removed from the shipped ClusterRole the same run fails.
// Only with the real tier (the simulator has no RBAC).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ControllerProcess, FLAVORS } from "../support/controller.ts";
import { realApiAvailable, startRealApiServer, type RealApiServer } from "../support/real-apiserver.ts";
import { waitFor } from "../../testkit/wait.ts";

const DEPLOY = resolve(import.meta.dir, "../../deploy");
const flavor = FLAVORS.at(-1)!;
const env = { LEADER_ELECTION: "true", LEADER_LEASE_NAMESPACE: "neurocontroller" };

(realApiAvailable() ? describe : describe.skip)(`deploy/rbac.yaml on a real kube-apiserver (${flavor})`, () => {
  const servers: RealApiServer[] = [];
  const controllers: ControllerProcess[] = [];
  afterAll(async () => {
    for (const c of controllers) c.proc.kill("SIGKILL");
    for (const s of servers) await s.stop();
  });

  async function run(rbacFile: string) {
    const kas = await startRealApiServer();
    servers.push(kas);
    await kas.applyDeployRbac();
    if (rbacFile !== join(DEPLOY, "rbac.yaml")) {
      // Replace the shipped roles with the altered copy (kubectl apply would merge, so delete first).
      const kc = kas.kubeconfig();
      Bun.spawnSync(["kubectl", "--kubeconfig", kc, "delete", "-n", "neurocontroller", "-f", join(DEPLOY, "rbac.yaml")]);
      const p = Bun.spawnSync(["kubectl", "--kubeconfig", kc, "apply", "-n", "neurocontroller", "-f", rbacFile], { stderr: "pipe" });
      expect(p.exitCode).toBe(0);
    }
    const token = await kas.serviceAccountToken("neurocontroller", "neurocontroller");
    const ctl = await ControllerProcess.start(flavor, kas.tokenKubeconfig(token), env);
    controllers.push(ctl);
    return { kas, ctl };
  }

  test("as shipped: the controller syncs, takes the Lease, and is never refused", async () => {
    const { ctl } = await run(join(DEPLOY, "rbac.yaml"));
    await ctl.ready(60_000);
    await waitFor(async () => (await ctl.metric("neurocontroller_is_leader")) === 1, { timeoutMs: 30_000, message: "leadership" });
    await waitFor(async () => ((await ctl.metric("neurocontroller_events_processed_total")) ?? 0) > 0, {
      timeoutMs: 30_000,
      message: "events processed",
    });
    expect(ctl.stderr).not.toMatch(/\b403\b|forbidden/i);
  });

  test("with `events` removed from the shipped ClusterRole the controller is refused (the check can fail)", async () => {
    const shipped = readFileSync(join(DEPLOY, "rbac.yaml"), "utf8");
    const narrowed = shipped.replace("resources: [endpoints, events, nodes, pods, services]", "resources: [endpoints, nodes, pods, services]");
    expect(narrowed).not.toBe(shipped);
    const file = join(mkdtempSync(join(tmpdir(), "nc-rbac-")), "rbac.yaml");
    writeFileSync(file, narrowed);
    const { ctl } = await run(file);
    await waitFor(() => /\b403\b|forbidden/i.test(ctl.stderr), {
      timeoutMs: 60_000,
      message: () => `a 403 in the controller's output (${ctl.stderr.slice(-1500)})`,
    });
  });
});
