// Where the controller finds its cluster, and the credentials to reach it. Parsed here, used by
// client.ts on Bun fetch's `tls` option (@kubernetes/client-node under Bun ignores CA/cert/key/skip-verify).
//
// Order: explicit path (--kubeconfig) > $KUBECONFIG (first existing file of a colon list) > in-cluster
// service account > ~/.kube/config > /etc/rancher/k3s/k3s.yaml (when readable) > null.
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "../boundary/reject.ts";

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

// The fields neurocontroller reads, typed as kubectl decodes them (a number where a string belongs is an
// error there too); other fields (proxy-url, extensions, preferences …) pass through untouched.
const text = z.string();
const base64 = z.string().regex(/^[A-Za-z0-9+/=\s]*$/, { error: "expected base64 text" });
const boolish = z.union([z.boolean(), z.enum(["true", "false"])]);
const ClusterSchema = z.looseObject({
  server: text.optional(),
  "certificate-authority-data": base64.optional(),
  "certificate-authority": text.optional(),
  "insecure-skip-tls-verify": boolish.optional(),
  "tls-server-name": text.optional(),
});
const ContextSchema = z.looseObject({ cluster: text.optional(), user: text.optional(), namespace: text.optional() });
const UserSchema = z.looseObject({
  "client-certificate-data": base64.optional(),
  "client-certificate": text.optional(),
  "client-key-data": base64.optional(),
  "client-key": text.optional(),
  token: text.optional(),
  tokenFile: text.optional(),
  "token-file": text.optional(),
  username: text.optional(),
  password: text.optional(),
});
const entries = <S extends z.ZodType>(field: string, body: S) =>
  z.array(z.looseObject({ name: z.string().min(1, { error: "expected a non-empty name" }), [field]: body.nullish() })).nullish();
const KubeconfigSchema = z.looseObject({
  "current-context": text.nullish(),
  clusters: entries("cluster", ClusterSchema),
  contexts: entries("context", ContextSchema),
  users: entries("user", UserSchema),
});
type KubeconfigDoc = z.infer<typeof KubeconfigSchema>;

/** Kubeconfig files are small; anything past this is not one (and is not read into memory whole). */
export const KUBECONFIG_MAX_BYTES = 4 << 20;

/** `users[name=u1].user.token: expected string, received number`: the entry named, not its index. */
function describeKubeconfigIssue(doc: unknown, issue: z.core.$ZodIssue): string {
  let at: unknown = doc;
  const parts: string[] = [];
  for (const p of issue.path) {
    const item = Array.isArray(at) ? at[p as number] : at && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[p] : undefined;
    const name = item && typeof item === "object" ? (item as { name?: unknown }).name : undefined;
    if (typeof p === "number") parts.push(typeof name === "string" ? `[name=${name}]` : `[${p}]`);
    else parts.push(parts.length ? `.${String(p)}` : String(p));
    at = item;
  }
  const message = issue.message.replace(/^Invalid input: /, "");
  return parts.length ? `${parts.join("")}: ${message}` : message;
}

function findNamed<T extends object>(
  file: string,
  items: readonly Record<string, unknown>[] | null | undefined,
  list: string,
  field: string,
  name: string,
): T {
  if (!items) throw new KubeconfigError(file, `no "${list}" list (looking for ${field} "${name}")`);
  const hit = items.find((i) => i.name === name);
  if (!hit) throw new KubeconfigError(file, `${field} "${name}" not found in "${list}"`);
  return (hit[field] ?? {}) as T;
}

export function fromKubeconfigFile(file: string, context?: string, label = ""): Connection {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > KUBECONFIG_MAX_BYTES) throw new Error(`${size} bytes is larger than a kubeconfig can be (${KUBECONFIG_MAX_BYTES})`);
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
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new KubeconfigError(file, "empty or not a kubeconfig map");
  const checked = KubeconfigSchema.safeParse(doc);
  if (!checked.success)
    throw new KubeconfigError(
      file,
      checked.error.issues
        .slice(0, 3)
        .map((i) => describeKubeconfigIssue(doc, i))
        .join("; "),
    );
  const d: KubeconfigDoc = checked.data;
  const ctxName = opts.context || d["current-context"] || "";
  if (!ctxName) throw new KubeconfigError(file, 'no "current-context" set and no --context given');
  const ctx = findNamed<z.infer<typeof ContextSchema>>(file, d.contexts, "contexts", "context", ctxName);
  const clusterName = ctx.cluster;
  if (!clusterName) throw new KubeconfigError(file, `context "${ctxName}" has no "cluster"`);
  const cluster = findNamed<z.infer<typeof ClusterSchema>>(file, d.clusters, "clusters", "cluster", clusterName);
  const userName = ctx.user;
  const user = userName ? findNamed<z.infer<typeof UserSchema>>(file, d.users, "users", "user", userName) : ({} as z.infer<typeof UserSchema>);

  const server = cluster.server;
  if (!server) throw new KubeconfigError(file, `cluster "${clusterName}" has no "server"`);
  if (!validServer(server)) throw new KubeconfigError(file, `cluster "${clusterName}" server "${server}" is not an http(s) URL with a host`);

  const path = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(baseDir, String(p)));
  const readPem = (where: string, dataField: string, fileField: string, obj: Record<string, unknown>): string | undefined => {
    const data = str(obj[dataField]);
    let pem: string;
    if (data) {
      pem = Buffer.from(data, "base64").toString("utf8");
      if (!pem.includes("-----BEGIN "))
        throw new KubeconfigError(file, `${where} "${dataField}": expected base64-encoded PEM (no "-----BEGIN" line once decoded)`);
      return pem;
    }
    const f = str(obj[fileField]);
    if (!f) return undefined;
    try {
      pem = readFileSync(path(f), "utf8");
    } catch (e) {
      throw new KubeconfigError(file, `${where} "${fileField}": cannot read ${path(f)}: ${(e as Error).message}`);
    }
    if (!pem.includes("-----BEGIN ")) throw new KubeconfigError(file, `${where} "${fileField}": ${path(f)} is not a PEM file (no "-----BEGIN" line)`);
    return pem;
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
    throw new KubeconfigError(
      file,
      `user "${userName}" uses "${kind}" credentials, which neurocontroller does not support; use a client certificate, token or tokenFile`,
    );
  }
  return conn;
}

function validServer(server: string): boolean {
  try {
    const u = new URL(server);
    return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
  } catch {
    return false;
  }
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : String(v);
}
