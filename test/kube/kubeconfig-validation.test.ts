// Malformed kubeconfig (issue 10, "kubeconfig" at the validation boundary): every field neurocontroller
// reads is type-checked with zod before use, and the error names the file and the field (by entry name).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromKubeconfigFile, KUBECONFIG_MAX_BYTES, KubeconfigError, parseKubeconfig } from "../../src/kube/kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "kc-valid-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";

/** A kubeconfig whose cluster, context and user bodies are given as YAML lines. */
function kc(parts: { cluster?: string[]; context?: string[]; user?: string[]; top?: string[] } = {}): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c1",
    "  cluster:",
    ...(parts.cluster ?? ["    server: https://10.0.0.1:6443", `    certificate-authority-data: ${b64(CA)}`]),
    "contexts:",
    "- name: ctx1",
    "  context:",
    ...(parts.context ?? ["    cluster: c1", "    user: u1"]),
    "users:",
    "- name: u1",
    "  user:",
    ...(parts.user ?? ["    token: abcdefgh"]),
    ...(parts.top ?? ["current-context: ctx1"]),
    "",
  ].join("\n");
}

function error(text: string): string {
  try {
    parseKubeconfig(text, { file: "/etc/neurocontroller/kubeconfig" });
  } catch (e) {
    expect(e).toBeInstanceOf(KubeconfigError);
    return (e as Error).message;
  }
  throw new Error("expected a KubeconfigError");
}

describe("kubeconfig validation", () => {
  test("a well-formed file still parses (positive control)", () => {
    const c = parseKubeconfig(kc(), { file: "f" });
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect(c.token).toBe("abcdefgh");
  });

  test("a field of the wrong type names the file, the entry and the field", () => {
    expect(error(kc({ user: ["    token: 12345"] }))).toMatch(
      /^\/etc\/neurocontroller\/kubeconfig: users\[name=u1\]\.user\.token: expected string, received number/,
    );
    expect(error(kc({ user: ["    token:", "      nested: map"] }))).toContain("users[name=u1].user.token: expected string");
    expect(error(kc({ cluster: ["    server: 6443"] }))).toContain("clusters[name=c1].cluster.server: expected string, received number");
    expect(error(kc({ context: ["    cluster: c1", "    namespace: [a, b]"] }))).toContain("contexts[name=ctx1].context.namespace: expected string");
    expect(error(kc({ top: ["current-context: 7"] }))).toContain("current-context: expected string");
    expect(error(kc({ cluster: ["    server: https://a:6443", "    insecure-skip-tls-verify: yes please"] }))).toContain(
      "clusters[name=c1].cluster.insecure-skip-tls-verify",
    );
  });

  test("lists that are not lists, entries without a name, bodies that are not maps", () => {
    expect(error("clusters: oops\ncontexts: []\ncurrent-context: x\n")).toContain("clusters: expected array, received string");
    expect(error(kc().replace("- name: u1", "- name: 5"))).toContain("users[0].name: expected string, received number");
    expect(error("clusters:\n- name: c1\n  cluster: just text\ncurrent-context: x\n")).toContain("clusters[name=c1].cluster: expected object");
    expect(error("- just\n- a list\n")).toContain("not a kubeconfig map");
  });

  test("base64 fields must be base64 of PEM; files must be PEM", () => {
    expect(error(kc({ cluster: ["    server: https://a:6443", "    certificate-authority-data: not*base64!"] }))).toContain(
      "clusters[name=c1].cluster.certificate-authority-data: expected base64 text",
    );
    expect(error(kc({ cluster: ["    server: https://a:6443", `    certificate-authority-data: ${b64("hello")}`] }))).toContain(
      'cluster "c1" "certificate-authority-data": expected base64-encoded PEM',
    );
    const notPem = join(dir, "ca.txt");
    writeFileSync(notPem, "not a certificate\n");
    expect(error(kc({ cluster: ["    server: https://a:6443", `    certificate-authority: ${notPem}`] }))).toContain(`${notPem} is not a PEM file`);
  });

  test("a server that is not an http(s) URL with a host", () => {
    expect(error(kc({ cluster: ["    server: https://"] }))).toContain('cluster "c1" server "https://" is not an http(s) URL with a host');
    expect(error(kc({ cluster: ["    server: ftp://a:6443"] }))).toContain("is not an http(s) URL");
  });

  test("a file far larger than any kubeconfig is refused by size, naming the file", () => {
    const big = join(dir, "big.yaml");
    writeFileSync(big, `${kc()}# ${"x".repeat(KUBECONFIG_MAX_BYTES)}\n`);
    expect(() => fromKubeconfigFile(big)).toThrow(new RegExp(`^${big}: cannot read: .*larger than a kubeconfig can be`));
  });

  test("fields neurocontroller does not read are left alone (proxy-url, extensions, preferences)", () => {
    const text = kc({
      cluster: ["    server: https://a:6443", "    proxy-url: http://proxy:3128", "    extensions: [{name: x, extension: {a: 1}}]"],
      top: ["current-context: ctx1", "preferences: {}"],
    });
    expect(parseKubeconfig(text, { file: "f" }).server).toBe("https://a:6443");
  });
});
