// A recorded change: what changed on which object, when and by whom (docs/changes.md). Plain JSON,
// persisted in state.db (src/store/change-store.ts). Never carries a Secret value: only key names and digests.
export interface ChangeRecord {
  /** Deterministic: the same change seen twice (a relist, a restart) is stored once. */
  id: string;
  /** ms epoch: when the change happened (the watch event, or the audit event's stage time). */
  time: number;
  kind: string;
  namespace: string;
  name: string;
  /** created, updated, scaled, deleted, cordoned, uncordoned; exec, attach, portforward (from the audit trail). */
  verb: string;
  /** The short diff: "image web:1.4 → web:1.5", "replicas 3 → 5". */
  lines: string[];
  /** From metadata.managedFields: the field manager of the newest write ("kubectl", "helm") and its operation. */
  manager?: string;
  operation?: string;
  /** The authenticated user, from the cluster's audit webhook. */
  user?: string;
}

/** "kube-admin (kubectl)", "kubectl", or undefined when nobody is known. */
export function actorOf(c: Pick<ChangeRecord, "user" | "manager">): string | undefined {
  if (c.user && c.manager) return `${c.user} (${c.manager})`;
  return c.user ?? c.manager;
}

/** "Deployment shop/web updated by kube-admin (kubectl): image web:1.4 → web:1.5" */
export function describeChange(c: ChangeRecord, opts: { namespace?: boolean; was?: boolean } = {}): string {
  const withNamespace = opts.namespace ?? true;
  const who = actorOf(c);
  const object = withNamespace && c.namespace ? `${c.namespace}/${c.name}` : c.name;
  const what = c.lines.filter((l) => l !== c.verb).join("; ");
  return `${c.kind} ${object} ${opts.was ? "was " : ""}${verbText(c.verb)}${who ? ` by ${who}` : ""}${what ? `: ${what}` : ""}`;
}

const VERB_TEXT: Record<string, string> = { exec: "exec'd into", attach: "attached to", portforward: "port-forwarded" };
const verbText = (verb: string) => VERB_TEXT[verb] ?? (verb.endsWith("d") ? verb : `${verb}ed`);
