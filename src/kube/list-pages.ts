// Lists page by page (limit/continue), as client-go's reflector does with 500 items a page: a 30,000-pod list
// is then 60 answers of ~1 MB, each parsed, checked and handed on before the next is read, instead of one ~60 MB
// string and its whole parse alive at once (the allocator keeps such peaks long after they are freed).
import type { RejectSink } from "../boundary/reject.ts";
import { KubeApiError } from "./api-error.ts";
import type { RequestOptions } from "./request.ts";
import { checkList } from "./schemas.ts";
import { apiPath, type KubeObject, type ResourceRef } from "./types.ts";

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** Items per page (limit/continue); 0 asks for everything in one answer. Default LIST_PAGE_SIZE. */
  pageSize?: number;
}

/** client-go's reflector page size. */
export const LIST_PAGE_SIZE = 500;
/** More pages than this from one list is a server that never ends it. */
const MAX_LIST_PAGES = 100_000;

/** One page of a list: its usable items; `restarted`: the pages before it are void (see listPages). */
export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  restarted: boolean;
}

/** What listPages needs of the client (KubeClient): requests, the reject sink, its counters, the field bound. */
export interface ListTransport {
  request<T>(method: string, path: string, opts: RequestOptions, onText?: (text: string) => void): Promise<T>;
  readonly rejects: RejectSink;
  readonly stats: { errors: number; malformedItems: number };
  bound<T>(obj: T): T;
  mayHoldLongStrings(json: string): boolean;
}

/**
 * A list as the server pages it, one checked page at a time, so a caller can use and drop each page's objects
 * before the next arrives. Every page carries the resourceVersion of the list's snapshot. When a continue token
 * has expired (410: etcd compacted past the snapshot), the list starts over in one unpaginated answer, as
 * client-go's pager does; that page comes with `restarted` (what the earlier pages gave is void).
 */
export async function* listPages(client: ListTransport, ref: ResourceRef, opts: ListOptions = {}): AsyncGenerator<ListPage> {
  const path = apiPath(ref, opts.namespace);
  const invalid = (why: string) => {
    client.stats.errors++;
    return new KubeApiError(200, "InvalidResponse", `GET ${path}: ${why}`, undefined);
  };
  let limit = opts.pageSize ?? LIST_PAGE_SIZE;
  let cont: string | undefined;
  let restarted = false;
  for (let pages = 0; ; pages++) {
    if (pages >= MAX_LIST_PAGES) throw invalid(`the list did not end after ${MAX_LIST_PAGES} pages`);
    const query = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: limit > 0 ? limit : undefined, continue: cont };
    let body: unknown;
    let long = true;
    try {
      body = await client.request<unknown>("GET", path, { query, signal: opts.signal }, (text) => {
        long = client.mayHoldLongStrings(text);
      });
    } catch (e) {
      if (cont === undefined || !(e instanceof KubeApiError) || e.status !== 410) throw e;
      cont = undefined;
      limit = 0;
      restarted = true;
      continue;
    }
    const list = checkList(body, ref, client.rejects);
    if ("reason" in list) throw invalid(list.reason);
    client.stats.malformedItems += list.refused;
    // Most pages hold no string near the bound: checked on the text, their objects are not walked.
    if (long) for (const o of list.items) client.bound(o);
    if (list.continue !== undefined && list.continue === cont) throw invalid("the server repeated the continue token");
    yield { items: list.items, resourceVersion: list.resourceVersion, restarted };
    restarted = false;
    // An unpaginated answer has no next page, whatever it says.
    cont = limit > 0 ? list.continue : undefined;
    if (cont === undefined) return;
  }
}
