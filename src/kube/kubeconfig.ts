// Where the controller finds its cluster, and the credentials to reach it. Parsed here, used by
// client.ts on Bun fetch's `tls` option (@kubernetes/client-node under Bun ignores CA/cert/key/skip-verify).
//
// Order: explicit path (--kubeconfig) > $KUBECONFIG (first existing file of a colon list) > in-cluster
// service account > ~/.kube/config > /etc/rancher/k3s/k3s.yaml (when readable) > null.
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  serverName?: string;
}

export interface Connection {
  server: string;
  tls: TlsOptions;
  /** A function re-reads a token file (service-account tokens rotate). */
  token?: string | (() => string);
  basic?: { username: string; password: string };
  namespace: string;
  /** Where this came from, for logs and errors; never contains a secret. */
  source: string;
}

export interface LoadOptions {
  /** Explicit kubeconfig path (the --kubeconfig flag): must exist. */
  kubeconfig?: string;
  /** Context name; default the file's current-context. */
  context?: string;
  env?: Record<string, string | undefined>;
  /** Service-account directory (tests); default /var/run/secrets/kubernetes.io/serviceaccount. */
  inClusterRoot?: string;
  /** K3s's kubeconfig (tests); default /etc/rancher/k3s/k3s.yaml. */
  k3sPath?: string;
}

export class KubeconfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "KubeconfigError";
  }
}

export const IN_CLUSTER_ROOT = "/var/run/secrets/kubernetes.io/serviceaccount";
export const K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";
/** How long a token read from a file is reused before the file is read again. */
const TOKEN_FILE_TTL_MS = 10_000;

export function loadConnection(opts: LoadOptions = {}): Connection | null {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new KubeconfigError(opts.kubeconfig, "file does not exist (given with --kubeconfig)");
    return fromKubeconfigFile(opts.kubeconfig, opts.context);
  }
  if (env.KUBECONFIG) {
    for (const p of env.KUBECONFIG.split(":")) {
      if (p && isFile(p) && !placeholder(p)) return fromKubeconfigFile(p, opts.context, "$KUBECONFIG ");
    }
  }
  const inCluster = fromInCluster(env, opts.inClusterRoot ?? IN_CLUSTER_ROOT);
  if (inCluster) return inCluster;
  if (env.HOME) {
    const home = join(env.HOME, ".kube", "config");
    if (isFile(home)) return fromKubeconfigFile(home, opts.context);
  }
  const k3s = opts.k3sPath ?? K3S_KUBECONFIG;
  if (isFile(k3s) && readable(k3s)) return fromKubeconfigFile(k3s, opts.context);
  return null;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A file of nothing but blank lines and comments configures no cluster (kubectl merges it to nothing):
 * neurocontroller.service's SetCredential= stand-in for a missing /etc/neurocontroller/kubeconfig. */
function placeholder(p: string): boolean {
  try {
    return readFileSync(p, "utf8")
      .split("\n")
      .every((l) => l.trim() === "" || l.trimStart().startsWith("#"));
  } catch {
    return false; // unreadable: fromKubeconfigFile reports it
  }
}

function readable(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** A token source that re-reads the file at most every TOKEN_FILE_TTL_MS; keeps the last good value. */
export function tokenFileReader(file: string, ttlMs = TOKEN_FILE_TTL_MS): () => string {
  let value = "";
  let readAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - readAt >= ttlMs) {
      try {
        value = readFileSync(file, "utf8").trim();
        readAt = now;
      } catch (e) {
        if (!value) throw new KubeconfigError(file, `cannot read token file: ${(e as Error).message}`);
      }
    }
    return value;
  };
}

export function fromInCluster(env: Record<string, string | undefined>, root = IN_CLUSTER_ROOT): Connection | null {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return null;
  const tokenPath = join(root, "token");
  if (!isFile(tokenPath)) return null;
  const caPath = join(root, "ca.crt");
  const nsPath = join(root, "namespace");
  const h = host.includes(":") ? `[${host}]` : host;
  const token = tokenFileReader(tokenPath);
  token(); // fail now, naming the file, rather than on the first request
  return {
    server: `https://${h}:${port}`,
    tls: { ca: isFile(caPath) ? readFileSync(caPath, "utf8") : undefined, rejectUnauthorized: true },
    token,
    namespace: isFile(nsPath) ? readFileSync(nsPath, "utf8").trim() || "default" : "default",
    source: `in-cluster service account (${root}, KUBERNETES_SERVICE_HOST=${host})`,
  };
}

type Named<T> = { name?: string } & Record<string, T | undefined>;

function findNamed(file: string, doc: Record<string, unknown>, list: string, field: string, name: string): Record<string, unknown> {
  const items = doc[list];
  if (!Array.isArray(items)) throw new KubeconfigError(file, `no "${list}" list (looking for ${field} "${name}")`);
  const hit = (items as Named<Record<string, unknown>>[]).find((i) => i && i.name === name);
  if (!hit) throw new KubeconfigError(file, `${field} "${name}" not found in "${list}"`);
  const body = hit[field];
  if (body == null) return {};
  if (typeof body !== "object") throw new KubeconfigError(file, `${list}[name=${name}].${field} is not a map`);
  return body as Record<string, unknown>;
}

export function fromKubeconfigFile(file: string, context?: string, label = ""): Connection {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KubeconfigError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseKubeconfig(text, { file, context, label });
}

/** Parses kubeconfig text; `file` names it in errors and anchors relative paths. */
export function parseKubeconfig(text: string, opts: { file: string; context?: string; label?: string }): Connection {
  const { file } = opts;
  const baseDir = dirname(resolve(file));
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch (e) {
    throw new KubeconfigError(file, `not valid YAML: ${(e as Error).message}`);
  }
  if (Array.isArray(doc)) doc = doc[0];
  if (!doc || typeof doc !== "object") throw new KubeconfigError(file, "empty or not a kubeconfig map");
  const d = doc as Record<string, unknown>;
  const ctxName = opts.context || (typeof d["current-context"] === "string" ? (d["current-context"] as string) : "");
  if (!ctxName) throw new KubeconfigError(file, 'no "current-context" set and no --context given');
  const ctx = findNamed(file, d, "contexts", "context", ctxName);
  const clusterName = str(ctx.cluster);
  if (!clusterName) throw new KubeconfigError(file, `context "${ctxName}" has no "cluster"`);
  const cluster = findNamed(file, d, "clusters", "cluster", clusterName);
  const userName = str(ctx.user);
  const user = userName ? findNamed(file, d, "users", "user", userName) : {};

  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(file, `cluster "${clusterName}" has no "server"`);
  if (!/^https?:\/\//.test(server)) throw new KubeconfigError(file, `cluster "${clusterName}" server "${server}" is not an http(s) URL`);

  const path = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(baseDir, String(p)));
  const readPem = (where: string, dataField: string, fileField: string, obj: Record<string, unknown>): string | undefined => {
    const data = str(obj[dataField]);
    if (data) return Buffer.from(data, "base64").toString("utf8");
    const f = str(obj[fileField]);
    if (!f) return undefined;
    try {
      return readFileSync(path(f), "utf8");
    } catch (e) {
      throw new KubeconfigError(file, `${where} "${fileField}": cannot read ${path(f)}: ${(e as Error).message}`);
    }
  };

  const skip = cluster["insecure-skip-tls-verify"] === true || cluster["insecure-skip-tls-verify"] === "true";
  const tls: TlsOptions = { rejectUnauthorized: !skip };
  const ca = readPem(`cluster "${clusterName}"`, "certificate-authority-data", "certificate-authority", cluster);
  if (ca && !skip) tls.ca = ca;
  const serverName = str(cluster["tls-server-name"]);
  if (serverName) tls.serverName = serverName;
  const cert = readPem(`user "${userName}"`, "client-certificate-data", "client-certificate", user);
  const key = readPem(`user "${userName}"`, "client-key-data", "client-key", user);
  if (cert && !key) throw new KubeconfigError(file, `user "${userName}" has a client certificate but no "client-key" or "client-key-data"`);
  if (key && !cert) throw new KubeconfigError(file, `user "${userName}" has a client key but no "client-certificate" or "client-certificate-data"`);
  if (cert && key) Object.assign(tls, { cert, key });

  const conn: Connection = {
    server: server.replace(/\/+$/, ""),
    tls,
    namespace: str(ctx.namespace) || "default",
    source: `${opts.label ?? ""}kubeconfig ${file} (context "${ctxName}", cluster "${clusterName}"${userName ? `, user "${userName}"` : ""})`,
  };
  const token = str(user.token);
  const tokenFile = str(user.tokenFile) || str(user["token-file"]);
  if (token) conn.token = token;
  else if (tokenFile) {
    const reader = tokenFileReader(path(tokenFile));
    try {
      reader();
    } catch (e) {
      throw new KubeconfigError(file, `user "${userName}" tokenFile: ${(e as Error).message}`);
    }
    conn.token = reader;
  }
  const username = str(user.username);
  if (username !== undefined && username !== "") {
    const password = str(user.password);
    if (password === undefined) throw new KubeconfigError(file, `user "${userName}" has "username" but no "password"`);
    conn.basic = { username, password };
  }
  if (!cert && !conn.token && !conn.basic && (user.exec || user["auth-provider"])) {
    const kind = user.exec ? "exec" : "auth-provider";
    throw new KubeconfigError(file, `user "${userName}" uses "${kind}" credentials, which neurocontroller does not support; use a client certificate, token or tokenFile`);
  }
  return conn;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : String(v);
}
