// The Ansible provisioning path, for real: Debian's ansible-playbook runs ansible/site.yml against a
// Debian bookworm container booted with systemd as PID 1 (systemd-nspawn, test/support/nspawn.ts),
// connected with community.docker.nsenter (no sshd). The container's "K3s" is the simulator: its
// kubeconfig is placed where K3s writes one (/etc/rancher/k3s/k3s.yaml) and the role installs it with
// the server address rewritten. Host networking: every port is chosen free on the host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { crashLoopPod, seedHealthyCluster, type SeededCluster } from "../../src/sim/kit.ts";
import { runPlaybook, writeInventory, type PlaybookRun } from "../support/ansible.ts";
import { bootContainer, writeInto, type Container } from "../support/nspawn.ts";
import { freePort } from "../../testkit/ports.ts";
import { cloneRootfs, ensureRootfs, removeRootfs } from "../support/rootfs.ts";
import { waitFor } from "../../testkit/wait.ts";

const DIST = resolve(import.meta.dir, "../../dist");
const log = (l: string) => console.log(`[ansible-test] ${l}`);
const CLUSTER_ID = "appliance-test";
const PREFIX = `neurocontroller/${CLUSTER_ID}`;
const MQTT_PASSWORD = 'ctrl-Pa55 "quoted" $x'; // exercises quoting in the env file
const READER = { name: "reader", password: "reader-pass-1" };

let sim: Simulator;
let seeded: SeededCluster;
let root = "";
let c: Container | undefined;
let inventory = "";
let dist = "";
let mqttPort = 0;
let first: PlaybookRun;
let sub: ReturnType<typeof Bun.spawn> | undefined;
let received = "";
const mqttArgs = (user: string, pass: string) => ["-h", "127.0.0.1", "-p", String(mqttPort), "-u", user, "-P", pass, "-i", `t-${user}-${Date.now()}`];

function requireHostTools(): void {
  const missing = ["ansible-playbook", "systemd-nspawn", "nsenter", "debootstrap", "mosquitto_sub"].filter((t) => !Bun.which(t));
  if (missing.length)
    throw new Error(
      `missing host tools: ${missing.join(", ")} (apt-get install ansible-core ansible systemd-container debootstrap mosquitto-clients)`,
    );
}

/** dist/ as `npm run build` leaves it (both binaries + SHA256SUMS; reused when unchanged), snapshotted so
 * a concurrent rebuild cannot change the files under the playbook. */
async function distSnapshot(): Promise<string> {
  const p = Bun.spawn(["bun", "scripts/build.ts", "--all", "--no-zst"], { cwd: resolve(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if ((await p.exited) !== 0) throw new Error(`build failed:\n${out}${err}`);
  const dir = mkdtempSync(join(tmpdir(), "neuro-dist-"));
  for (const f of ["SHA256SUMS", "neurocontroller-linux-x64"]) copyFileSync(`${DIST}/${f}`, join(dir, f));
  return dir;
}

describe("ansible/site.yml against a systemd container", () => {
  beforeAll(async () => {
    requireHostTools();
    dist = await distSnapshot();
    sim = await startSimulator({ tls: true, clientCertAuth: true });
    seeded = seedHealthyCluster(sim.store, { nodes: 2, deployments: 2, replicasPerDeployment: 2 });
    // python3 + python3-apt: what Ansible's modules (apt) need on the managed node.
    const golden = await ensureRootfs({ extraPackages: ["python3", "python3-apt"], log: (l) => log(`rootfs: ${l}`) });
    root = await cloneRootfs(golden);
    writeInto(root, "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n");
    // What K3s writes on a server node: the API at 127.0.0.1, embedded client certificate.
    writeInto(root, "etc/rancher/k3s/k3s.yaml", await Bun.file(sim.kubeconfig()).text(), 0o600);
    // nspawn's seccomp filter refuses bpf() (the agent then exits with EPERM, its documented failure):
    // allow it, so the eBPF agent really runs in the container.
    c = await bootContainer(root, {
      name: `neuro-ansible-${process.pid}`,
      extraArgs: ["--system-call-filter=bpf perf_event_open"],
      log: (l) => log(`nspawn: ${l}`),
    });
    mqttPort = await freePort();
    const httpPort = await freePort();
    inventory = writeInventory({
      all: {
        vars: {
          neurocontroller_cluster_id: CLUSTER_ID,
          neurocontroller_mqtt_broker_host: "node1",
          neurocontroller_mqtt_broker_address: "127.0.0.1",
          neurocontroller_mqtt_port: mqttPort,
          neurocontroller_mqtt_password: MQTT_PASSWORD,
          neurocontroller_mqtt_readers: [READER],
          // the sim's certificate names 127.0.0.1 and localhost: rewriting 127.0.0.1 → localhost proves the rewrite
          neurocontroller_k3s_server_address: "localhost",
          neurocontroller_dist_dir: dist,
          neurocontroller_env: { NEURO_HTTP_ADDR: `127.0.0.1:${httpPort}`, ALERT_GROUP_WAIT: "1s", DIAGNOSIS_WRITE_INTERVAL: "1s" },
        },
        children: {
          k3s_server: {
            hosts: {
              node1: {
                ansible_connection: "community.docker.nsenter",
                ansible_nsenter_pid: c.leader,
                ansible_become: false,
                ansible_python_interpreter: "/usr/bin/python3",
              },
            },
          },
          k3s_agent: { hosts: {} },
        },
      },
    });
  }, 15 * 60_000);

  afterAll(async () => {
    sub?.kill();
    await c?.stop();
    if (root) await removeRootfs(root);
    await sim?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  test(
    "first run provisions the node",
    async () => {
      first = await runPlaybook(inventory, [], log);
      if (first.code !== 0) console.log(first.output.split("\n").slice(-60).join("\n"));
      expect(first.code).toBe(0);
      expect(first.recap.node1).toMatchObject({ failed: 0, unreachable: 0 });
      expect(first.recap.node1!.changed).toBeGreaterThan(5);
      // secrets never reach the output
      expect(first.output).not.toContain(MQTT_PASSWORD);
      expect(first.output).not.toContain(READER.password);
    },
    10 * 60_000,
  );

  test(
    "second run changes nothing; --check --diff also reports nothing to change",
    async () => {
      const second = await runPlaybook(inventory, [], log);
      expect(second.code).toBe(0);
      expect({ changed: second.recap.node1?.changed, tasks: second.changedTasks }).toEqual({ changed: 0, tasks: [] });
      const check = await runPlaybook(inventory, ["--check", "--diff"], log);
      expect(check.code).toBe(0);
      expect({ changed: check.recap.node1?.changed, tasks: check.changedTasks }).toEqual({ changed: 0, tasks: [] });
      expect(check.output).not.toContain(MQTT_PASSWORD);
    },
    5 * 60_000,
  );

  test("binary installed by version with the rollback symlink, checksum as in SHA256SUMS", async () => {
    const sums = await Bun.file(`${dist}/SHA256SUMS`).text();
    const expected = /^([0-9a-f]{64})\s+\*?neurocontroller-linux-x64$/m.exec(sums)![1];
    const link = await c!.exec(["readlink", "/usr/local/bin/neurocontroller"]);
    expect(link.stdout.trim()).toMatch(/^\/usr\/local\/lib\/neurocontroller\/neurocontroller-\d+\.\d+\.\d+/);
    const sha = await c!.exec(["sha256sum", link.stdout.trim()]);
    expect(sha.stdout.split(" ")[0]).toBe(expected);
    const version = await c!.exec(["/usr/local/bin/neurocontroller", "version"]);
    expect(version.code).toBe(0);
  });

  test("config: env file 0600 root and valid; kubeconfig with the server address rewritten", async () => {
    const st = await c!.exec(["stat", "-c", "%a %U", "/etc/neurocontroller/neurocontroller.env"]);
    expect(st.stdout.trim()).toBe("600 root");
    const check = await c!.exec(["/usr/local/bin/neurocontroller", "check-config", "--config", "/etc/neurocontroller/neurocontroller.env"]);
    expect(check.code).toBe(0);
    // systemd reads the quoted password back exactly (the controller's own environment)
    const env = await c!.sh("tr '\\0' '\\n' </proc/$(systemctl show -p MainPID --value neurocontroller.service)/environ");
    expect(env.stdout).toContain(`MQTT_PASSWORD=${MQTT_PASSWORD}\n`);
    expect(env.stdout).toContain(`MQTT_TOPIC_PREFIX=${PREFIX}\n`);
    const kc = await c!.exec(["cat", "/etc/neurocontroller/kubeconfig"]);
    const port = new URL(sim.url).port;
    expect(kc.stdout).toContain(`server: https://localhost:${port}`);
    expect(kc.stdout).not.toContain("127.0.0.1");
    // the agent's tracepoints need perf_event_paranoid <= 2 with CAP_PERFMON only (Debian's default is 3)
    const sysctl = await c!.exec(["cat", "/etc/sysctl.d/60-neurocontroller-perf.conf"]);
    expect(sysctl.stdout).toMatch(/^kernel\.perf_event_paranoid = 2$/m);
  });

  test("units active; slice carries the node budget", async () => {
    const active = await waitFor(
      async () => ((await c!.systemctl("is-active", "neurocontroller.service")).stdout.trim() === "active" ? "active" : ""),
      {
        timeoutMs: 30_000,
        message: "neurocontroller.service active",
      },
    ).catch(async (e) => {
      const status = await c!.exec(["journalctl", "-u", "neurocontroller.service", "--no-pager", "-n", "30"]);
      throw new Error(`${e.message}\n${status.stdout}`);
    });
    expect(active).toBe("active");
    const agent = await c!.systemctl("is-active", "neurocontroller-agent.service");
    if (agent.stdout.trim() !== "active") {
      const journal = await c!.exec(["journalctl", "-u", "neurocontroller-agent.service", "--no-pager", "-o", "cat", "-n", "20"]);
      throw new Error(`agent ${agent.stdout.trim()}:\n${journal.stdout}`);
    }
    const agentLog = await c!.exec(["journalctl", "-u", "neurocontroller-agent.service", "--no-pager", "-o", "cat"]);
    expect(agentLog.stdout).toContain("connected to the MQTT broker"); // the container's mosquitto, with the role's credentials
    const mem = await c!.systemctl("show", "-p", "MemoryMax", "-p", "CPUQuotaPerSecUSec", "neurocontroller.slice");
    expect(mem.stdout).toContain("MemoryMax=268435456");
    expect(mem.stdout).toContain("CPUQuotaPerSecUSec=200ms");
    const slice = await c!.systemctl("show", "-p", "Slice", "--value", "neurocontroller.service");
    expect(slice.stdout.trim()).toBe("neurocontroller.slice");
  }, 60_000);

  test("broker: listener on the chosen port, wrong password refused, reader subscribed", async () => {
    const conf = await c!.exec(["cat", "/etc/mosquitto/conf.d/neurocontroller.conf"]);
    expect(conf.stdout).toContain("max_queued_messages 10000");
    expect(conf.stdout).toContain(`listener ${mqttPort}`);
    const acl = await c!.exec(["cat", "/etc/mosquitto/neurocontroller.acl"]);
    // Least privilege (docs/security.md): the reader reads what the controller publishes; the controller
    // account writes its own topics only.
    expect(acl.stdout).toContain(`user ${READER.name}\ntopic read ${PREFIX}/alerts\n`);
    expect(acl.stdout).toContain(`user neurocontroller\ntopic write ${PREFIX}/alerts\n`);
    expect(acl.stdout).not.toContain(`topic readwrite ${PREFIX}/#`);
    const denied = Bun.spawn(["mosquitto_pub", ...mqttArgs(READER.name, "wrong"), "-t", `${PREFIX}/x`, "-m", "x"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await denied.exited).not.toBe(0);
    // The read-only user subscribes to what it may read, from the host (the container's broker).
    const topics = ["alerts", "status", "incidents/#"].flatMap((t) => ["-t", `${PREFIX}/${t}`]);
    sub = Bun.spawn(["mosquitto_sub", ...mqttArgs(READER.name, READER.password), ...topics, "-v", "-q", "1"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of sub!.stdout as ReadableStream<Uint8Array>) received += dec.decode(chunk, { stream: true });
    })();
    // the controller's retained online status proves the subscription is live
    await waitFor(() => received.includes(`${PREFIX}/status`), {
      timeoutMs: 15_000,
      message: () => `retained ${PREFIX}/status (got: ${received.slice(0, 300)})`,
    });
    // the ACL: the reader may not write (mosquitto drops the message; the subscriber never sees it)
    const forged = Bun.spawn(
      ["mosquitto_pub", ...mqttArgs(READER.name, READER.password), "-t", `${PREFIX}/alerts`, "-m", "forged-by-reader", "-q", "1"],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(await forged.exited).toBe(0);
  }, 30_000);

  test("a crash-looping pod: cleaned_events.log in the container and an alert on the container's mosquitto", async () => {
    const pod = seeded.deployments[0]!.pods[0]!;
    crashLoopPod(sim.store, "default", pod);
    const line = await waitFor(
      async () => {
        const r = await c!.exec(["cat", "/var/log/neurocontroller/cleaned_events.log"]);
        return r.stdout.split("\n").find((l) => l.includes(pod) && l.includes("CrashLoopBackOff"));
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "CrashLoopBackOff in the container's cleaned_events.log" },
    );
    expect(JSON.parse(line)).toMatchObject({ kind: "Pod", name: pod, namespace: "default", reason: "CrashLoopBackOff" });
    const alert = await waitFor(() => received.split("\n").find((l) => l.startsWith(`${PREFIX}/alerts {`) && l.includes(pod)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: () =>
        `an alert for ${pod} on ${PREFIX}/alerts (got topics: ${[...new Set(received.split("\n").map((l) => l.split(" ")[0]))].join(", ")})`,
    });
    const group = JSON.parse(alert.slice(alert.indexOf(" ") + 1));
    expect(group).toMatchObject({ clusterId: CLUSTER_ID, status: "firing" });
    expect(group.alerts.some((a: { name: string; reason: string }) => a.name === pod && a.reason === "CrashLoopBackOff")).toBe(true);
    expect(received).not.toContain("forged-by-reader");
  }, 150_000);
});
