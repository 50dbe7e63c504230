// kubeconfig parsing and the discovery order; no network.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeconfigError, loadConnection, parseKubeconfig } from "../../src/kube/kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "kc-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n";

function kc(opts: { cluster?: string[]; user?: string[]; context?: string[]; current?: string; extraContexts?: string } = {}): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c1",
    "  cluster:",
    ...(opts.cluster ?? ["    server: https://10.0.0.1:6443/", `    certificate-authority-data: ${b64(CA)}`]).map((l) => l),
    "contexts:",
    "- name: ctx1",
    "  context:",
    ...(opts.context ?? ["    cluster: c1", "    user: u1"]),
    opts.extraContexts ?? "",
    `current-context: ${opts.current ?? "ctx1"}`,
    "users:",
    "- name: u1",
    "  user:",
    ...(opts.user ?? [`    client-certificate-data: ${b64(CERT)}`, `    client-key-data: ${b64(KEY)}`]),
    "",
  ].join("\n");
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
}

describe("parseKubeconfig", () => {
  test("K3s shape: embedded CA, client certificate and key", () => {
    const c = parseKubeconfig(kc(), { file: "/x/k3s.yaml" });
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect(c.tls).toEqual({ ca: CA, cert: CERT, key: KEY, rejectUnauthorized: true });
    expect(c.namespace).toBe("default");
    expect(c.token).toBeUndefined();
    expect(c.source).toContain("/x/k3s.yaml");
    expect(c.source).toContain('context "ctx1"');
    expect(c.source).not.toContain("KEY");
  });

  test("file paths are resolved against the kubeconfig's directory", () => {
    write("pki/ca.crt", CA);
    write("pki/client.crt", CERT);
    write("pki/client.key", KEY);
    write("tok", "file-token\n");
    const file = write(
      "rel.yaml",
      kc({
        cluster: ["    server: https://h:6443", "    certificate-authority: pki/ca.crt", "    tls-server-name: kubernetes"],
        user: ["    client-certificate: pki/client.crt", `    client-key: ${join(dir, "pki/client.key")}`, "    tokenFile: tok"],
      }),
    );
    const c = loadConnection({ kubeconfig: file, env: {} })!;
    expect(c.tls.ca).toBe(CA);
    expect(c.tls.cert).toBe(CERT);
    expect(c.tls.key).toBe(KEY);
    expect(c.tls.serverName).toBe("kubernetes");
    expect(typeof c.token).toBe("function");
    expect((c.token as () => string)()).toBe("file-token");
  });

  test("token, basic auth, insecure-skip-tls-verify and context namespace", () => {
    const c = parseKubeconfig(
      kc({
        cluster: ["    server: https://h:6443", "    insecure-skip-tls-verify: true", `    certificate-authority-data: ${b64(CA)}`],
        user: ["    token: abc.def", "    username: admin", "    password: pw"],
        context: ["    cluster: c1", "    user: u1", "    namespace: monitoring"],
      }),
      { file: "f" },
    );
    expect(c.tls.rejectUnauthorized).toBe(false);
    expect(c.tls.ca).toBeUndefined();
    expect(c.token).toBe("abc.def");
    expect(c.basic).toEqual({ username: "admin", password: "pw" });
    expect(c.namespace).toBe("monitoring");
  });

  test("an explicit context wins over current-context", () => {
    const extra = ["- name: other", "  context:", "    cluster: c1", "    user: u1", "    namespace: other-ns"].join("\n");
    const c = parseKubeconfig(kc({ extraContexts: extra }), { file: "f", context: "other" });
    expect(c.namespace).toBe("other-ns");
    expect(c.source).toContain('context "other"');
  });

  test("errors name the file and what is missing", () => {
    const err = (text: string, context?: string) => {
      try {
        parseKubeconfig(text, { file: "/etc/kc.yaml", context });
      } catch (e) {
        expect(e).toBeInstanceOf(KubeconfigError);
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(err(kc({ current: "nope" }))).toBe('/etc/kc.yaml: context "nope" not found in "contexts"');
    expect(err(kc({ cluster: ["    insecure-skip-tls-verify: true"] }))).toBe('/etc/kc.yaml: cluster "c1" has no "server"');
    expect(err(kc({ user: [`    client-certificate-data: ${b64(CERT)}`] }))).toContain('user "u1" has a client certificate but no "client-key"');
    expect(err(kc({ context: ["    user: u1"] }))).toContain('context "ctx1" has no "cluster"');
    expect(err(kc({ context: ["    cluster: zz", "    user: u1"] }))).toContain('cluster "zz" not found in "clusters"');
    expect(err(kc({ user: ["    client-certificate: missing.crt", "    client-key: missing.key"] }))).toMatch(
      /\/etc\/kc.yaml: user "u1" "client-certificate": cannot read \/etc\/missing.crt/,
    );
    expect(err(kc({ user: ["    exec:", "      command: aws"] }))).toContain('uses "exec" credentials');
    expect(err("apiVersion: v1\nkind: Config\n")).toContain('no "current-context"');
    expect(err(": : :\n  - [")).toContain("/etc/kc.yaml: not valid YAML");
  });
});

describe("loadConnection order", () => {
  const a = write("a.yaml", kc({ cluster: ["    server: https://a:6443"] }));
  const b = write("b.yaml", kc({ cluster: ["    server: https://b:6443"] }));
  const home = join(dir, "home");
  write("home/.kube/config", kc({ cluster: ["    server: https://home:6443"] }));
  const k3s = write("k3s.yaml", kc({ cluster: ["    server: https://k3s:6443"] }));
  const sa = join(dir, "sa");
  write("sa/token", "sa-token\n");
  write("sa/ca.crt", CA);
  write("sa/namespace", "neuro\n");
  const inCluster = { KUBERNETES_SERVICE_HOST: "10.43.0.1", KUBERNETES_SERVICE_PORT: "443" };
  const load = (env: Record<string, string>, kubeconfig?: string, k3sPath = k3s) => loadConnection({ kubeconfig, env, inClusterRoot: sa, k3sPath });

  test("explicit path first", () => {
    expect(load({ KUBECONFIG: b, HOME: home, ...inCluster }, a)!.server).toBe("https://a:6443");
  });
  test("an explicit path that does not exist is an error, not a fallback", () => {
    expect(() => load({ HOME: home }, join(dir, "nope.yaml"))).toThrow(/nope.yaml: file does not exist/);
  });
  test("$KUBECONFIG: first existing file of the list", () => {
    const c = load({ KUBECONFIG: `${join(dir, "missing")}:${b}:${a}`, HOME: home, ...inCluster })!;
    expect(c.server).toBe("https://b:6443");
    expect(c.source).toStartWith("$KUBECONFIG kubeconfig");
  });
  test("$KUBECONFIG: a file of only comments (systemd's SetCredential= stand-in) configures nothing", () => {
    write("placeholder", "# /etc/neurocontroller/kubeconfig is missing\n\n");
    const c = load({ KUBECONFIG: `${join(dir, "placeholder")}:${b}`, HOME: home })!;
    expect(c.server).toBe("https://b:6443");
    expect(load({ KUBECONFIG: join(dir, "placeholder"), HOME: join(dir, "nohome") }, undefined, join(dir, "absent.yaml"))).toBeNull();
  });
  test("in-cluster service account before ~/.kube/config", () => {
    const c = load({ KUBECONFIG: join(dir, "missing"), HOME: home, ...inCluster })!;
    expect(c.server).toBe("https://10.43.0.1:443");
    expect(c.tls).toEqual({ ca: CA, rejectUnauthorized: true });
    expect((c.token as () => string)()).toBe("sa-token");
    expect(c.namespace).toBe("neuro");
    expect(c.source).toContain("in-cluster");
    expect(load({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" })!.server).toBe("https://[fd00::1]:443");
  });
  test("~/.kube/config, then k3s.yaml, then null", () => {
    expect(load({ HOME: home })!.server).toBe("https://home:6443");
    expect(load({ HOME: join(dir, "nohome") })!.server).toBe("https://k3s:6443");
    expect(load({ HOME: join(dir, "nohome") }, undefined, join(dir, "absent.yaml"))).toBeNull();
  });
  test("an unreadable k3s.yaml is skipped", () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const locked = write("locked.yaml", kc());
    chmodSync(locked, 0o000);
    expect(load({ HOME: join(dir, "nohome") }, undefined, locked)).toBeNull();
  });
});
