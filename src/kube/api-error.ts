// The one error the Kubernetes client throws, and how a non-2xx answer becomes one (from its Status body).

/** Any failure talking to the API: non-2xx (status, reason from the Status body) or transport (status 0). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "KubeApiError";
  }
}

/** Builds the error for a non-2xx response from its Status body. */
export async function errorFromResponse(method: string, path: string, resp: Response): Promise<KubeApiError> {
  const text = await resp.text().catch(() => "");
  let body: unknown = text;
  let reason = resp.statusText || `HTTP ${resp.status}`;
  let message = text.trim().slice(0, 500) || reason;
  try {
    const parsed = JSON.parse(text) as { kind?: string; reason?: string; message?: string };
    body = parsed;
    if (parsed && typeof parsed === "object") {
      if (parsed.reason) reason = parsed.reason;
      if (parsed.message) message = parsed.message;
    }
  } catch {
    /* not JSON: keep the text */
  }
  return new KubeApiError(resp.status, reason, `${method} ${path}: ${resp.status} ${message}`, body);
}
