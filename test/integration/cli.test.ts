// The commands users type, run as processes (source and compiled binary): scan's output and exit
// codes, check-config's errors and redaction, version stamping, help.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, healPod, nodeNotReady, nodeReady, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { command, FLAVORS } from "../support/controller.ts";

// Asynchronous on purpose: the simulator serves from this process's event loop.
async function run(flavor: (typeof FLAVORS)[number], args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn(command(flavor, args), {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

for (const flavor of FLAVORS) {
  describe(`cli (${flavor})`, () => {
    let sim: Simulator;
    let seeded: SeededCluster;
    beforeAll(async () => {
      sim = await startSimulator({ tls: true, clientCertAuth: true });
      seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 3, replicasPerDeployment: 2 });
    });
    afterAll(() => sim?.stop());

    test("scan: healthy cluster exits 0 and prints nothing", async () => {
      const r = await run(flavor, ["scan", "--kubeconfig", sim.kubeconfig(), "--output", "json"]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toBe("");
    });

    test("scan: firing anomalies print as JSON Lines with the log's fields and exit 3", async () => {
      const pod = seeded.deployments[0]!.pods[0]!;
      crashLoopPod(sim.store, "default", pod);
      nodeNotReady(sim.store, seeded.nodes[1]!);
      // a node that went NotReady long ago: judged from lastTransitionTime, not from when scan started
      sim.store.patchStatus("nodes", undefined, seeded.nodes[1]!, (s) => {
        for (const c of s.conditions) if (c.type === "Ready") c.lastTransitionTime = sim.store.timestamp(-600_000);
      });
      const r = await run(flavor, ["scan", "--kubeconfig", sim.kubeconfig(), "--output", "json"]);
      expect(r.code).toBe(3);
      const lines = r.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.find((l) => l.reason === "CrashLoopBackOff")).toMatchObject({
        kind: "Pod",
        name: pod,
        namespace: "default",
        severity: "warning",
        status: "firing",
      });
      expect(lines.find((l) => l.reason === "NodeNotReady")).toMatchObject({ kind: "Node", name: seeded.nodes[1], severity: "critical" });
      for (const l of lines)
        expect(Object.keys(l).slice(0, 10)).toEqual([
          "time",
          "eventTime",
          "kind",
          "namespace",
          "name",
          "node",
          "reason",
          "message",
          "severity",
          "category",
        ]);
      expect(lines[0].severity).toBe("critical"); // most severe first
    });

    test("scan: table output names the objects", async () => {
      const r = await run(flavor, ["scan", "--kubeconfig", sim.kubeconfig(), "--output", "table"]);
      expect(r.code).toBe(3);
      expect(r.out.split("\n")[0]).toMatch(/^SEVERITY\s+KIND\s+OBJECT\s+NODE\s+REASON\s+MESSAGE$/);
      expect(r.out).toContain("NodeNotReady");
      expect(r.err).toMatch(/anomalies in \d+ objects/);
      healPod(sim.store, "default", seeded.deployments[0]!.pods[0]!);
      nodeReady(sim.store, seeded.nodes[1]!);
    });

    test("scan --output table: escape sequences from a Pod's message are stripped; a number for spec.nodeName prints", async () => {
      const name = `evil-${flavor}`;
      sim.store.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default" },
        spec: { nodeName: 5, containers: [{ name: "c", image: "x" }] },
        status: {
          phase: "Failed",
          reason: "Evicted",
          message: "\u001b[2J\u001b]0;pwned\u0007The node was low on memory.\u001b[31m\nFORGED LINE\u009b1m",
        },
      });
      try {
        const r = await run(flavor, ["scan", "--kubeconfig", sim.kubeconfig(), "--output", "table"]);
        expect(r.code).toBe(3);
        const row = r.out.split("\n").find((l) => l.includes(name));
        expect(row).toMatch(new RegExp(`^WARNING\\s+Pod\\s+default/${name}\\s+5\\s+Evicted\\s+`));
        expect(row).toContain("The node was low on memory. FORGED LINE");
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
        expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
        expect(r.out).not.toContain("pwned");
      } finally {
        sim.store.delete("pods", "default", name);
      }
    });

    test("silence ls: escape sequences and non-strings in a stored silence print as plain text", async () => {
      const now = Date.now();
      const hostile = {
        id: "abc\u001b[2J",
        matchers: [{ field: "namespace", value: "shop\u001b]0;pwned\u0007" }],
        startsAt: now - 1000,
        endsAt: now + 3_600_000,
        createdBy: 42,
        comment: "ok\u001b[31m\nFORGED\u009b1m",
        createdAt: now,
        updatedAt: now,
      };
      const name = `hostile-${flavor}-silences`;
      sim.store.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "kube-system" },
        data: { "silences.json": JSON.stringify([hostile]) },
      });
      try {
        const r = await run(flavor, ["silence", "ls", "--kubeconfig", sim.kubeconfig()], { LEADER_LEASE_NAME: name.replace(/-silences$/, "") });
        expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
        const row = r.out.split("\n").find((l) => l.startsWith("abc"));
        expect(row).toMatch(/^abc\s+active\s+\S+Z\s+42\s+namespace=shop\s+ok FORGED$/);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
        expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      } finally {
        sim.store.delete("configmaps", "kube-system", name);
      }
    });

    test("scan: unreachable cluster exits 1 with the server named; bad flag exits 2", async () => {
      const dir = mkdtempSync(join(tmpdir(), "nc-cli-"));
      const stopped = await startSimulator({ tls: true });
      const kc = stopped.kubeconfig(join(dir, "kc.yaml"));
      await stopped.stop();
      const r = await run(flavor, ["scan", "--kubeconfig", kc]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(stopped.url);
      expect((await run(flavor, ["scan", "--output", "yaml"])).code).toBe(2);
      expect((await run(flavor, ["scan", "--bogus"])).err).toContain("unknown flag --bogus");
    });

    test("scan: a server that is not Kubernetes (HTML, other JSON, garbage) exits 1 saying so, never '0 anomalies'", async () => {
      const dir = mkdtempSync(join(tmpdir(), "nc-cli-"));
      for (const [type, body] of [
        ["text/html", "<html><body>It works!</body></html>"],
        ["application/json", '{"hello":"world"}'],
        ["application/json", "\u0001garbage"],
      ]) {
        const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { headers: { "content-type": type! } }) });
        try {
          const kc = join(dir, "kc.yaml");
          writeFileSync(
            kc,
            `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server.url.origin}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
          );
          const r = await run(flavor, ["scan", "--kubeconfig", kc, "--output", "table"]);
          expect(r.code).toBe(1);
          expect(r.err).toContain(`${server.url.origin} does not answer as a Kubernetes API server`);
          expect(r.err).not.toContain("anomalies in");
        } finally {
          server.stop(true);
        }
      }
    });

    test("scan: no cluster anywhere exits 1 and says where it looked", async () => {
      const r = await run(flavor, ["scan"], { KUBECONFIG: "/nonexistent/kubeconfig" });
      expect(r.code).toBe(1);
      expect(r.err).toContain("no cluster found");
    });

    test("check-config: valid config prints every key with secrets redacted; channels off until configured", async () => {
      const dir = mkdtempSync(join(tmpdir(), "nc-cli-"));
      writeFileSync(join(dir, "pw"), "s3cret-smtp-pass\n");
      const r = await run(flavor, ["check-config"], {
        MAIL_PASSWORD_FILE: join(dir, "pw"),
        SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/tok3n-secret",
      });
      expect(r.code).toBe(0);
      expect(r.out).toContain("DIAGNOSIS_CLEAN_INTERVAL");
      expect(r.out).toContain("configuration is valid");
      expect(r.out).toMatch(/email: off \(not configured: MAIL_SMTP_HOST, MAIL_FROM, MAIL_TO unset\)/);
      expect(r.out + r.err).not.toContain("s3cret-smtp-pass");
      expect(r.out + r.err).not.toContain("tok3n-secret");
    });

    test("check-config: invalid values exit 2 naming each key and the expected form", async () => {
      const r = await run(flavor, ["check-config"], { DIAGNOSIS_WRITE_INTERVAL: "often", NEURO_HTTP_ADDR: "localhost" });
      expect(r.code).toBe(2);
      expect(r.err).toContain('DIAGNOSIS_WRITE_INTERVAL="often": expected a duration');
      expect(r.err).toContain('NEURO_HTTP_ADDR="localhost": expected host:port');
    });

    test("check-config and the controller refuse the same bad channel, enum and duration values with the same message", async () => {
      const bad = {
        MQTT_URL: "mqtt//nc:planted-pw-6Tb@broker:1883",
        MQTT_CA_FILE: "/nonexistent/ca.pem",
        MAIL_SMTP_TLS: "bogus",
        ALERT_LEVEL_STRICT_SEVERITY: "extreme",
        NEURO_LOG_LEVEL: "loud",
        KUBERNETES_API_HEALTH_CHECK_INTERVAL: "25d",
      };
      const check = await run(flavor, ["check-config"], bad);
      expect(check.code).toBe(2);
      for (const key of Object.keys(bad)) expect(check.err).toContain(`${key}=`);
      expect(check.err).toContain('KUBERNETES_API_HEALTH_CHECK_INTERVAL="25d": expected a duration');
      expect(check.err).toContain("of at most 1h");
      expect(check.err).not.toContain("planted-pw-6Tb");
      expect(check.out).not.toContain("configuration is valid");
      // The controller stops before touching the cluster (exit 2), with the very same lines.
      const controller = await run(flavor, ["controller", "--kubeconfig", sim.kubeconfig()], bad);
      expect(controller.code).toBe(2);
      expect(controller.err.trim()).toBe(check.err.trim());
    });

    test("version and help", async () => {
      const v = await run(flavor, ["version", "--json"]);
      expect(v.code).toBe(0);
      const info = JSON.parse(v.out);
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      if (flavor === "binary") expect(info.commit).not.toBe("dev");
      const h = await run(flavor, ["--help"]);
      for (const c of ["controller", "scan", "demo", "check-config", "version"]) expect(h.out).toContain(c);
      expect((await run(flavor, ["scan", "--help"])).out).toContain("Exit codes");
      expect((await run(flavor, ["nope"])).code).toBe(2);
    });
  });
}
