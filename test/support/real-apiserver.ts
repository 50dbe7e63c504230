// A real kube-apiserver (Debian bookworm's kubernetes 1.20.2, built by test/support/kube-apiserver.sh) with Debian's
// etcd, on loopback: free ports, a temporary data dir, TLS, client-certificate and bearer-token auth, RBAC.
// See docs/real-apiserver.md for how it is built and what differs from the simulator.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { ensureCerts } from "../../src/sim/certs.ts";
import { writeKubeconfig } from "../../src/sim/kubeconfig.ts";
import { freePort } from "../../testkit/ports.ts";
import { waitFor } from "../../testkit/wait.ts";

const SCRIPT = resolve(import.meta.dir, "kube-apiserver.sh");
const DEPLOY = resolve(import.meta.dir, "../../deploy");

/** Where the cached binary is (built or not). */
export function kubeApiserverPath(): string {
  const p = Bun.spawnSync(["bash", SCRIPT, "--path"], { stdout: "pipe", stderr: "pipe" });
  return p.stdout.toString().trim();
}

/**
 * Whether the real tier runs: the binary is cached (test/run.sh builds it). NEURO_REAL_API=0 turns the tier off,
 * NEURO_REAL_API=1 makes a missing binary an error rather than a smaller run.
 */
export function realApiAvailable(): boolean {
  if (process.env.NEURO_REAL_API === "0") return false;
  const ok = existsSync(kubeApiserverPath()) && Bun.which("etcd") !== null;
  if (!ok && process.env.NEURO_REAL_API === "1") {
    throw new Error(`NEURO_REAL_API=1 but no kube-apiserver at ${kubeApiserverPath()} (run test/support/kube-apiserver.sh) or no etcd`);
  }
  return ok;
}

export interface TlsPems {
  ca: string;
  cert?: string;
  key?: string;
}

export interface RealApiServer {
  url: string;
  /** The admin's client certificate (O=system:masters) and the CA. */
  certs: { dir: string; caFile: string; certFile: string; keyFile: string; ca: string; cert: string; key: string };
  /** A static bearer token (user "token-admin", group system:masters). */
  adminToken: string;
  etcdUrl: string;
  /** Admin kubeconfig (client certificate), written once. */
  kubeconfig(file?: string): string;
  /** Kubeconfig for a bearer token (CA, no client certificate). */
  tokenKubeconfig(token: string, file?: string): string;
  /** Applies deploy/namespace.yaml, serviceaccount.yaml and rbac.yaml (+ extra files) exactly as shipped. */
  applyDeployRbac(extraFiles?: string[]): Promise<void>;
  /** A token for a service account (created when missing) through the TokenRequest API. */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** Compacts etcd at its current revision: watches from older resourceVersions that reach etcd get 410. */
  compact(): Promise<number>;
  /** Kills kube-apiserver (SIGKILL: a SIGTERM waits ~60 s for open watches) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops kube-apiserver alone (etcd keeps running); start() brings it back on the same port. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
  /** stderr tails, for failure messages. */
  logs(): string;
}

const tail = (s: string, n = 3000) => s.slice(-n);

function collect(proc: Subprocess<"ignore", "pipe", "pipe">, sink: { text: string }): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) sink.text = tail(sink.text + dec.decode(chunk), 20_000);
    })();
  }
}

export async function startRealApiServer(opts: { extraArgs?: string[] } = {}): Promise<RealApiServer> {
  const bin = kubeApiserverPath();
  if (!existsSync(bin)) throw new Error(`no kube-apiserver at ${bin}: run test/support/kube-apiserver.sh`);
  const dir = mkdtempSync(join(tmpdir(), "nc-kas-"));
  const certs = ensureCerts(join(dir, "pki"), "127.0.0.1");
  const f = (n: string) => join(dir, n);
  const sa = Bun.spawnSync(["openssl", "genrsa", "-out", f("sa.key"), "2048"], { stdout: "pipe", stderr: "pipe" });
  if (sa.exitCode !== 0) throw new Error(`openssl genrsa: ${sa.stderr}`);
  const adminToken = `admin-${crypto.randomUUID()}`;
  writeFileSync(f("tokens.csv"), `${adminToken},token-admin,token-admin-uid,"system:masters"\n`, { mode: 0o600 });

  const [etcdPort, peerPort, port] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const url = `https://127.0.0.1:${port}`;
  const etcdLog = { text: "" };
  const kasLog = { text: "" };
  const etcd = Bun.spawn(
    [
      "etcd",
      "--name",
      "default",
      "--data-dir",
      f("etcd"),
      "--listen-client-urls",
      etcdUrl,
      "--advertise-client-urls",
      etcdUrl,
      "--listen-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${peerPort}`,
      "--log-level",
      "warn",
      "--logger",
      "zap",
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  collect(etcd, etcdLog);
  const args = [
    bin,
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    "--insecure-port=0",
    `--cert-dir=${f("kas-certs")}`,
    `--tls-cert-file=${join(certs.dir, "server.crt")}`,
    `--tls-private-key-file=${join(certs.dir, "server.key")}`,
    `--client-ca-file=${certs.caFile}`,
    `--token-auth-file=${f("tokens.csv")}`,
    // As K3s: no anonymous requests (a request without credentials is a 401, not system:anonymous).
    "--anonymous-auth=false",
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${f("sa.key")}`,
    `--service-account-signing-key-file=${f("sa.key")}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    // No controller-manager creates `default` service accounts (every Pod would be refused) or PDB status.
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    "--logtostderr",
    "--v=0",
    ...(opts.extraArgs ?? []),
  ];
  let kas: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  const tls = { ca: certs.ca, cert: certs.cert, key: certs.key };
  const logs = () => `--- kube-apiserver:\n${tail(kasLog.text)}\n--- etcd:\n${tail(etcdLog.text, 1500)}`;

  const adminFetch = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, tls } as RequestInit);
  const startApiserver = async () => {
    kas = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    collect(kas, kasLog);
    const proc = kas;
    const died = proc.exited.then((code) => {
      throw new Error(`kube-apiserver exited with ${code} before it was ready (${logs()})`);
    });
    await Promise.race([
      waitFor(async () => proc.exitCode !== null || (await adminFetch("/readyz").catch(() => undefined))?.status === 200, {
        timeoutMs: 60_000,
        message: () => `kube-apiserver /readyz (${logs()})`,
      }),
      died,
    ]);
    died.catch(() => {});
    if (proc.exitCode !== null) throw new Error(`kube-apiserver exited with ${proc.exitCode} before it was ready (${logs()})`);
  };
  const stopApiserver = async () => {
    if (!kas) return;
    kas.kill("SIGKILL");
    await kas.exited;
    kas = undefined;
  };
  await waitFor(async () => (await fetch(`${etcdUrl}/health`).catch(() => undefined))?.ok, {
    timeoutMs: 30_000,
    message: () => `etcd /health (${logs()})`,
  });
  try {
    await startApiserver();
  } catch (e) {
    kas?.kill("SIGKILL");
    etcd.kill("SIGKILL");
    throw e;
  }

  let kubeconfigFile: string | undefined;
  const server: RealApiServer = {
    url,
    certs: { dir: certs.dir, caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile, ...tls },
    adminToken,
    etcdUrl,
    kubeconfig(file) {
      if (!file && kubeconfigFile) return kubeconfigFile;
      const out = writeKubeconfig(file ?? f("admin.kubeconfig"), { server: url, ca: certs.ca, cert: certs.cert, key: certs.key });
      if (!file) kubeconfigFile = out;
      return out;
    },
    tokenKubeconfig(token, file) {
      return writeKubeconfig(file ?? f(`token-${crypto.randomUUID()}.kubeconfig`), { server: url, ca: certs.ca, token });
    },
    async applyDeployRbac(extraFiles = []) {
      const files = ["namespace.yaml", "serviceaccount.yaml", "rbac.yaml", ...extraFiles].flatMap((n) => ["-f", join(DEPLOY, n)]);
      const p = Bun.spawnSync(["kubectl", "--kubeconfig", server.kubeconfig(), "apply", "-n", "neurocontroller", ...files], {
        stdout: "pipe",
        stderr: "pipe",
      });
      if (p.exitCode !== 0) throw new Error(`kubectl apply deploy/: ${p.stderr}`);
    },
    async serviceAccountToken(namespace, name) {
      const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } };
      const created = await adminFetch(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
        method: "POST",
        body: JSON.stringify(sa),
        headers: { "content-type": "application/json" },
      });
      if (created.status !== 201 && created.status !== 409) throw new Error(`create serviceaccount: ${created.status} ${await created.text()}`);
      const r = await adminFetch(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
        method: "POST",
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } }),
        headers: { "content-type": "application/json" },
      });
      const body = (await r.json()) as { status?: { token?: string } };
      if (r.status !== 201 || !body.status?.token) throw new Error(`TokenRequest: ${r.status} ${JSON.stringify(body)}`);
      return body.status.token;
    },
    async compact() {
      // etcd's gRPC gateway (JSON over HTTP): read the current revision, compact there.
      const range = await fetch(`${etcdUrl}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: btoa("/") }) });
      const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
      const r = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: "POST", body: JSON.stringify({ revision, physical: true }) });
      if (!r.ok) throw new Error(`etcd compaction: ${r.status} ${await r.text()}`);
      return revision;
    },
    async restart() {
      await stopApiserver();
      await startApiserver();
    },
    stopApiserver,
    startApiserver,
    async stop() {
      await stopApiserver();
      etcd.kill("SIGTERM");
      await etcd.exited;
      rmSync(dir, { recursive: true, force: true });
    },
    logs,
  };
  return server;
}
