// A ConfigMap used as a small shared document (silences, the leader's shared state): every write is a
// read-modify-write guarded by the ConfigMap's resourceVersion, so two writers (the CLI and a leader,
// or two leaders during a hand-over) never lose each other's update. On a 409 the function is applied
// again to a fresh read, as client-go's RetryOnConflict does.
import { IGNORE_REJECTS, parseAt, type RejectSink, z } from "../boundary/reject.ts";
import { KubeApiError } from "./api-error.ts";
import type { KubeClient } from "./client.ts";

/** The API server's limit for a whole object is 1 MiB (etcd); the data must stay well below it. */
export const CONFIGMAP_DATA_MAX_BYTES = 1024 * 1024 - 64 * 1024;

const ConfigMapShape = z.object({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  data: z.record(z.string(), z.string()).nullish(),
});

export type ConfigMapData = Record<string, string>;

export interface ConfigMapDocumentOptions {
  labels?: Record<string, string>;
  /** Attempts of one update before a conflict is given up on (default 8). */
  maxAttempts?: number;
  /** Upper bound on the bytes of all data values together (default CONFIGMAP_DATA_MAX_BYTES). */
  maxBytes?: number;
  /** Where a ConfigMap that is not one (a body without metadata, non-string data) is reported. */
  rejects?: RejectSink;
}

export class ConfigMapTooLarge extends Error {}

/** Bytes of a ConfigMap's data as stored (keys and values, UTF-8). */
export function dataBytes(data: ConfigMapData): number {
  let n = 0;
  for (const [k, v] of Object.entries(data)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export class ConfigMapDocument {
  /** Writes that met a 409 and were applied again to a fresh read. */
  conflicts = 0;
  private readonly maxAttempts: number;
  private readonly maxBytes: number;
  private readonly rejects: RejectSink;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    readonly name: string,
    private readonly opts: ConfigMapDocumentOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.maxBytes = opts.maxBytes ?? CONFIGMAP_DATA_MAX_BYTES;
    this.rejects = opts.rejects ?? IGNORE_REJECTS;
  }

  private path(named = true): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/configmaps${named ? `/${encodeURIComponent(this.name)}` : ""}`;
  }

  /** The current data and its resourceVersion; null when the ConfigMap does not exist. */
  async read(signal?: AbortSignal): Promise<{ data: ConfigMapData; resourceVersion: string } | null> {
    let body: unknown;
    try {
      body = await this.client.request("GET", this.path(), { signal });
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return null;
      throw e;
    }
    const parsed = parseAt(ConfigMapShape, body, "kube.configmap", this.rejects);
    if (!parsed.ok) throw new Error(`ConfigMap ${this.namespace}/${this.name} is not a ConfigMap: ${parsed.reason}`);
    return { data: parsed.value.data ?? {}, resourceVersion: parsed.value.metadata.resourceVersion ?? "" };
  }

  /**
   * Applies `change` to the current data (null: no ConfigMap yet) and writes the result with the
   * resourceVersion it was read at; a 409 (someone wrote in between) re-reads and applies it again.
   * `change` may run more than once and must be pure. It returns the whole new data, or undefined
   * when nothing needs writing. Resolves with the data as written (or as read, when not written).
   * `signal` aborts the read and the write (a leader whose renew deadline passes must not write).
   */
  async update(
    change: (current: ConfigMapData | null) => ConfigMapData | undefined,
    signal?: AbortSignal,
  ): Promise<{ data: ConfigMapData; written: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(signal);
      const next = change(current ? { ...current.data } : null);
      if (next === undefined) return { data: current?.data ?? {}, written: false };
      const size = dataBytes(next);
      if (size > this.maxBytes)
        throw new ConfigMapTooLarge(`ConfigMap ${this.namespace}/${this.name}: ${size} bytes of data exceed the limit of ${this.maxBytes}`);
      const body = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: this.name,
          namespace: this.namespace,
          labels: { "app.kubernetes.io/name": "neurocontroller", ...this.opts.labels },
          ...(current ? { resourceVersion: current.resourceVersion } : {}),
        },
        data: next,
      };
      try {
        if (current) await this.client.request("PUT", this.path(), { body, signal });
        else await this.client.request("POST", this.path(false), { body, signal });
        return { data: next, written: true };
      } catch (e) {
        // 409: changed since we read it (PUT) or created meanwhile (POST); 404: deleted meanwhile.
        const status = e instanceof KubeApiError ? e.status : 0;
        if ((status === 409 || status === 404) && attempt < this.maxAttempts) {
          this.conflicts++;
          continue;
        }
        throw e;
      }
    }
  }
}
