// `slo pause|resume`: a small ConfigMap beside the leader Lease (`<LEADER_LEASE_NAME>-slo`), written
// by the CLI and read by the leader each tick, so a pause holds across restarts and failovers.
import { IGNORE_REJECTS, parseAt, type RejectSink, z } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { KubeClient } from "../kube/client.ts";
import { ConfigMapDocument } from "../kube/configmap-document.ts";

const PauseShape = z.object({ paused: z.enum(["true", "false"]), by: z.string().max(256).default(""), since: z.string().max(64).default("") });

export interface SloPause {
  by: string;
  since: string;
}

export class SloPauseDocument {
  private readonly doc: ConfigMapDocument;

  constructor(
    client: KubeClient,
    namespace: string,
    name: string,
    private readonly rejects: RejectSink = IGNORE_REJECTS,
  ) {
    this.doc = new ConfigMapDocument(client, namespace, name, { rejects, labels: { "app.kubernetes.io/component": "slo" } });
  }

  static beside(client: KubeClient, config: Config, rejects?: RejectSink): SloPauseDocument {
    return new SloPauseDocument(client, config.str("LEADER_LEASE_NAMESPACE"), `${config.str("LEADER_LEASE_NAME")}-slo`, rejects);
  }

  get where(): string {
    return `ConfigMap ${this.doc.namespace}/${this.doc.name}`;
  }

  /** The pause in force, or undefined (no ConfigMap, or one that does not say paused). */
  async read(): Promise<SloPause | undefined> {
    const state = await this.state();
    return state?.paused ? { by: state.by, since: state.since } : undefined;
  }

  /** The last pause or resume written, if any; a ConfigMap that says neither is refused (counted) and reads as not paused. */
  async state(): Promise<(SloPause & { paused: boolean }) | undefined> {
    const cur = await this.doc.read();
    if (!cur) return undefined;
    const parsed = parseAt(PauseShape, cur.data, "slo.pause", this.rejects);
    return parsed.ok ? { paused: parsed.value.paused === "true", by: parsed.value.by, since: parsed.value.since } : undefined;
  }

  async set(paused: boolean, by: string, now: Date): Promise<boolean> {
    const r = await this.doc.update((cur) => {
      if ((cur?.paused === "true") === paused) return undefined;
      return paused
        ? { paused: "true", by: by.slice(0, 256), since: now.toISOString() }
        : { paused: "false", by: by.slice(0, 256), since: now.toISOString() };
    });
    return r.written;
  }
}
