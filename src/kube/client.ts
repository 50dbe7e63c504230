// A small Kubernetes API client on Bun fetch. This is the transport that makes the kubeconfig's CA,
// client certificate/key and insecure-skip-tls-verify work under Bun (fetch's `tls` option), at a few
// MiB instead of the ~70 MiB @kubernetes/client-node costs.
import { IGNORE_REJECTS, type RejectSink } from "../boundary/reject.ts";
import { errorFromResponse, KubeApiError } from "./api-error.ts";
import { MAX_FIELD_LENGTH, MAX_WATCH_LINE_LENGTH, mayHoldLongStrings, truncateLongStrings } from "./bounds.ts";
import type { Connection } from "./kubeconfig.ts";
import { apiPath, type KubeObject, type ResourceRef, type WatchEvent } from "./types.ts";
import { LineTooLongError, WatchLineReader } from "./lines.ts";
import { fetchTls, type Query, type RequestOptions, requestHeaders, requestUrl } from "./request.ts";
import { type ListOptions, type ListPage, listPages } from "./list-pages.ts";

export type PatchType = "merge" | "strategic" | "json";
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

export type { ListOptions, ListPage } from "./list-pages.ts";
export { LIST_PAGE_SIZE } from "./list-pages.ts";

export interface WatchOptions extends ListOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Asks the server to end the stream after this many seconds. */
  timeoutSeconds?: number;
  /** Abort when nothing arrives for this long (half-open connections). Default: (timeoutSeconds + 60) s, or none. */
  idleTimeoutMs?: number;
  /** Called once the server answered 200 (the stream is open). */
  onOpen?: () => void;
  /** Called for each line that is not a watch event (after counting it in stats.malformedLines). */
  onMalformed?: (line: string) => void;
}

export interface ClientOptions {
  timeoutMs?: number;
  userAgent?: string;
  /** Where listed or watched objects that cannot be used are reported (source "kube.<plural>"). */
  rejects?: RejectSink;
  /** Longest watch line accepted (default MAX_WATCH_LINE_LENGTH); a longer one restarts the watch. */
  maxWatchLineLength?: number;
  /** Longest string kept from an object's fields (default MAX_FIELD_LENGTH); longer ones are cut with "…". */
  maxFieldLength?: number;
}

export interface HealthResult {
  ok: boolean;
  endpoint: string;
  detail: string;
}

export class KubeClient {
  /** malformedLines: watch lines skipped; malformedItems: list items skipped; oversizeLines: watches restarted
   * for a line over the maximum; truncatedFields: strings cut to maxFieldLength. */
  readonly stats = { requests: 0, errors: 0, watches: 0, malformedLines: 0, malformedItems: 0, oversizeLines: 0, truncatedFields: 0 };
  readonly rejects: RejectSink;
  /** ms epoch of the last 2xx answer: evidence that the API server was reachable then. */
  lastOkAt = 0;
  /** The API server's clock minus ours, from the last 2xx answer's Date header (±0.5 s: it has whole seconds). */
  apiClockOffsetMs: number | undefined;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly maxWatchLine: number;
  private readonly maxField: number;

  constructor(
    readonly connection: Connection,
    opts: ClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? "neurocontroller";
    this.rejects = opts.rejects ?? IGNORE_REJECTS;
    this.maxWatchLine = opts.maxWatchLineLength ?? MAX_WATCH_LINE_LENGTH;
    this.maxField = opts.maxFieldLength ?? MAX_FIELD_LENGTH;
  }

  /** False when no string parsed from this JSON text can pass the field bound (bound() need not walk its objects). */
  mayHoldLongStrings(json: string): boolean {
    return mayHoldLongStrings(json, this.maxField);
  }

  /** Strings over the field bound cut in place (the object was just parsed for us). */
  bound<T>(obj: T): T {
    this.stats.truncatedFields += truncateLongStrings(obj, this.maxField);
    return obj;
  }

  /** The raw fetch with TLS and auth; transport failures become KubeApiError(0). */
  async send(method: string, path: string, opts: RequestOptions & { accept?: string } = {}): Promise<Response> {
    this.stats.requests++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signals: AbortSignal[] = [];
    if (opts.signal) signals.push(opts.signal);
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    if (timeout) signals.push(timeout);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    let body: string | undefined;
    let contentType = opts.contentType;
    if (opts.body !== undefined) {
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      contentType ??= "application/json";
    }
    const tls = fetchTls(this.connection.tls);
    const url = requestUrl(this.connection.server, path, opts.query);
    try {
      const resp = await fetch(url, {
        method,
        headers: requestHeaders(this.connection, this.userAgent, opts.accept ?? "application/json", contentType),
        body,
        signal,
        tls,
      } as RequestInit);
      if (resp.ok) {
        this.lastOkAt = Date.now();
        const date = Date.parse(resp.headers.get("date") ?? "");
        if (!Number.isNaN(date)) this.apiClockOffsetMs = date + 500 - this.lastOkAt;
      }
      return resp;
    } catch (e) {
      this.stats.errors++;
      const err = e as Error & { code?: string };
      if (opts.signal?.aborted) throw new KubeApiError(0, "Aborted", `${method} ${path}: aborted`, undefined, { cause: e });
      if (timeout?.aborted) throw new KubeApiError(0, "Timeout", `${method} ${path}: no answer within ${timeoutMs} ms`, undefined, { cause: e });
      const code = err?.code ? ` (${err.code})` : "";
      throw new KubeApiError(0, "NetworkError", `${method} ${this.connection.server}${path}: ${err?.message ?? e}${code}`, undefined, { cause: e });
    }
  }

  /** Builds the error for a non-2xx response from its Status body. */
  async errorFrom(method: string, path: string, resp: Response): Promise<KubeApiError> {
    this.stats.errors++;
    return errorFromResponse(method, path, resp);
  }

  /** One request → parsed JSON (text when the answer is not JSON). Non-2xx → KubeApiError. */
  // biome-ignore lint/suspicious/noExplicitAny: the default response type is untyped JSON; callers name T
  async request<T = any>(method: string, path: string, opts: RequestOptions = {}, onText?: (text: string) => void): Promise<T> {
    const resp = await this.send(method, path, opts);
    if (resp.status < 200 || resp.status > 299) throw await this.errorFrom(method, path, resp);
    let text: string;
    try {
      text = await resp.text();
    } catch (e) {
      this.stats.errors++;
      throw new KubeApiError(0, "NetworkError", `${method} ${path}: reading the answer: ${(e as Error).message}`, undefined, { cause: e });
    }
    onText?.(text);
    if (!text) return undefined as T;
    if (!(resp.headers.get("content-type") ?? "").includes("json")) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new KubeApiError(resp.status, "InvalidResponse", `${method} ${path}: answer is not valid JSON`, text, { cause: e });
    }
  }

  /** Every item of a list (fetched page by page, see listPages), with the list's resourceVersion. */
  async list(ref: ResourceRef, opts: ListOptions = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    let items: KubeObject[] = [];
    let resourceVersion = "";
    for await (const page of this.listPages(ref, opts)) {
      if (page.restarted) items = [];
      for (const o of page.items) items.push(o);
      resourceVersion = page.resourceVersion;
    }
    return { items, resourceVersion };
  }

  /** A list as the server pages it (limit/continue), one checked page at a time: see list-pages.ts. */
  listPages(ref: ResourceRef, opts: ListOptions = {}): AsyncGenerator<ListPage> {
    return listPages(this, ref, opts);
  }

  /**
   * Streams a watch: each line parsed once and given to onEvent; malformed lines are counted and skipped.
   * Resolves when the server ends the stream (or opts.signal aborts); rejects on non-200 or transport error.
   */
  async watch(ref: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    const path = apiPath(ref, opts.namespace);
    const query: Query = {
      watch: "true",
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks ? "true" : undefined,
      timeoutSeconds: opts.timeoutSeconds,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    };
    const idleMs = opts.idleTimeoutMs ?? (opts.timeoutSeconds ? (opts.timeoutSeconds + 60) * 1000 : 0);
    const local = new AbortController();
    const onAbort = () => local.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idleFired = false;
    const armIdle = () => {
      if (!idleMs) return;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleFired = true;
        local.abort();
      }, idleMs);
    };
    this.stats.watches++;
    const transport = (e: unknown) => {
      if (e instanceof KubeApiError) return e;
      this.stats.errors++;
      if (idleFired) return new KubeApiError(0, "Timeout", `watch ${path}: nothing received for ${idleMs} ms`, undefined, { cause: e });
      return new KubeApiError(0, "NetworkError", `watch ${path}: stream broken: ${(e as Error)?.message ?? e}`, undefined, { cause: e });
    };
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      armIdle();
      let resp: Response;
      try {
        resp = await this.send("GET", path, { query, signal: local.signal, timeoutMs: 0 });
      } catch (e) {
        if (opts.signal?.aborted) return;
        throw transport(e);
      }
      if (resp.status !== 200) throw await this.errorFrom("GET", path, resp);
      opts.onOpen?.();
      if (!resp.body) return;
      reader = resp.body.getReader();
      const source = `kube.${ref.plural}`;
      // onEvent's own exceptions propagate unchanged (the stream is closed in finally).
      const events = new WatchLineReader({
        maxLine: this.maxWatchLine,
        source,
        sink: this.rejects,
        // A JSON string decodes to at most as many characters as it takes in the line, so a line no longer than the
        // field bound holds no string to cut: the walk over the object is skipped (most status updates).
        onEvent: (ev, lineLength) => onEvent(lineLength <= this.maxField ? ev : this.bound(ev)),
        onMalformed: (line) => {
          this.stats.malformedLines++;
          opts.onMalformed?.(line);
        },
      });
      // A line over the maximum: dropped, counted, and the watch restarted (from the last resourceVersion) by the caller.
      const feed = (step: () => void) => {
        try {
          step();
        } catch (e) {
          if (!(e instanceof LineTooLongError)) throw e;
          this.stats.oversizeLines++;
          this.rejects.reject(source, e.message);
          throw new KubeApiError(0, "LineTooLong", `watch ${path}: ${e.message}`);
        }
      };
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (opts.signal?.aborted) return;
          throw transport(e);
        }
        if (chunk.done) break;
        armIdle();
        feed(() => events.push(chunk.value));
        if (opts.signal?.aborted) return;
      }
      feed(() => events.end());
    } finally {
      if (idleTimer) clearTimeout(idleTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      reader?.cancel().catch(() => {});
      local.abort();
    }
  }

  get(ref: ResourceRef, name: string, namespace?: string, signal?: AbortSignal): Promise<KubeObject> {
    return this.request("GET", apiPath(ref, namespace, name), { signal });
  }

  create(ref: ResourceRef, obj: KubeObject, namespace = obj.metadata.namespace): Promise<KubeObject> {
    return this.request("POST", apiPath(ref, namespace), { body: obj });
  }

  /** PUT; with metadata.resourceVersion set the server checks it (409 Conflict when stale). */
  replace(ref: ResourceRef, obj: KubeObject, namespace = obj.metadata.namespace): Promise<KubeObject> {
    return this.request("PUT", apiPath(ref, namespace, obj.metadata.name), { body: obj });
  }

  patch(ref: ResourceRef, name: string, patch: unknown, type: PatchType = "merge", namespace?: string): Promise<KubeObject> {
    return this.request("PATCH", apiPath(ref, namespace, name), { body: patch, contentType: PATCH_CONTENT_TYPE[type] });
  }

  delete(ref: ResourceRef, name: string, namespace?: string, options?: Record<string, unknown>): Promise<unknown> {
    return this.request("DELETE", apiPath(ref, namespace, name), options ? { body: { kind: "DeleteOptions", apiVersion: "v1", ...options } } : {});
  }

  version(): Promise<{ major: string; minor: string; gitVersion: string; [k: string]: unknown }> {
    return this.request("GET", "/version");
  }

  /** /readyz, falling back to /healthz when /readyz is absent or forbidden. Never throws. */
  async health(timeoutMs = 5000): Promise<HealthResult> {
    let last: HealthResult = { ok: false, endpoint: "/readyz", detail: "not checked" };
    for (const endpoint of ["/readyz", "/healthz"]) {
      try {
        const resp = await this.send("GET", endpoint, { timeoutMs, accept: "text/plain, */*" });
        const text = (await resp.text().catch(() => "")).trim().slice(0, 300);
        if (resp.ok) return { ok: true, endpoint, detail: text || `HTTP ${resp.status}` };
        last = { ok: false, endpoint, detail: `HTTP ${resp.status}${text ? `: ${text}` : ""}` };
        if (![401, 403, 404].includes(resp.status)) return last;
      } catch (e) {
        return { ok: false, endpoint, detail: (e as Error).message };
      }
    }
    return last;
  }
}
