// Status bodies exactly as kube-apiserver writes them, so clients' error paths see real shapes.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export function reasonFor(code: number): string {
  return REASONS[code] ?? (code >= 500 ? "InternalError" : "Unknown");
}

/** Thrown by the store and the routes; the server turns it into a Status response. */
export class SimError extends Error {
  constructor(
    public code: number,
    message: string,
    public reason: string = reasonFor(code),
    public details?: StatusDetails,
  ) {
    super(message);
  }
}

export function statusBody(code: number, message: string, reason = reasonFor(code), details?: StatusDetails) {
  const body: Record<string, unknown> = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    code,
  };
  // A plain storage error carries no reason (`reason,omitempty`), e.g. a resourceVersion on create.
  if (!reason) delete body.reason;
  // Go's StatusDetails has `group,omitempty`: the core group ("") is absent on the wire.
  if (details) body.details = details.group === "" ? (({ group: _g, ...rest }) => rest)(details) : details;
  if (code < 400) {
    delete body.message;
    delete body.reason;
  }
  return body;
}

export function errorStatus(e: SimError) {
  return statusBody(e.code, e.message, e.reason, e.details);
}

// "pods" in group "" reads `pods`, in apps `deployments.apps`, the way apiserver names resources in messages.
export function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(plural: string, group: string, name: string): SimError {
  return new SimError(404, `${qualified(plural, group)} "${name}" not found`, "NotFound", {
    name,
    group,
    kind: plural,
  });
}

export function alreadyExists(plural: string, group: string, name: string): SimError {
  return new SimError(409, `${qualified(plural, group)} "${name}" already exists`, "AlreadyExists", {
    name,
    group,
    kind: plural,
  });
}

export function conflict(plural: string, group: string, name: string, why?: string): SimError {
  return new SimError(
    409,
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": ${
      why ?? "the object has been modified; please apply your changes to the latest version and try again"
    }`,
    "Conflict",
    { name, group, kind: plural },
  );
}

export function invalid(kind: string, group: string, name: string, causes: Required<StatusCause>[]): SimError {
  const msg = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new SimError(422, `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${msg}`, "Invalid", {
    name,
    group,
    kind,
    causes,
  });
}

export function badRequest(message: string): SimError {
  return new SimError(400, message, "BadRequest");
}
