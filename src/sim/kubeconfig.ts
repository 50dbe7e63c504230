// kubeconfig for a running simulator, in the shape K3s writes (embedded *-data fields).
import { writeFileSync } from "node:fs";

export interface KubeconfigInput {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export function kubeconfigYaml(k: KubeconfigInput): string {
  const cluster = [`    server: ${k.server}`];
  if (k.ca) cluster.unshift(`    certificate-authority-data: ${b64(k.ca)}`);
  const user: string[] = [];
  if (k.cert && k.key) user.push(`    client-certificate-data: ${b64(k.cert)}`, `    client-key-data: ${b64(k.key)}`);
  if (k.token) user.push(`    token: ${k.token}`);
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: sim",
    "  cluster:",
    ...cluster,
    "contexts:",
    "- name: sim",
    "  context:",
    "    cluster: sim",
    "    user: sim-admin",
    "current-context: sim",
    "preferences: {}",
    "users:",
    "- name: sim-admin",
    "  user:",
    ...(user.length ? user : ["    {}"]),
    "",
  ].join("\n");
}

export function writeKubeconfig(file: string, k: KubeconfigInput): string {
  writeFileSync(file, kubeconfigYaml(k), { mode: 0o600 });
  return file;
}
