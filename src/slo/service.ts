// The SLO engine as the controller runs it: one tick every SLO_INTERVAL, on the leader only, after
// the informers synced, unless paused (`neurocontroller slo pause`, a ConfigMap beside the Lease so
// the pause survives restarts and failovers). Ticks never overlap; errors are logged, never thrown.
import type { ActionJournal } from "../actions/journal.ts";
import { CountingRejectSink, IGNORE_REJECTS, type RejectSink } from "../boundary/reject.ts";
import type { Config } from "../config/load.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../log.ts";
import { evaluateBurn, type RedSource } from "./burn.ts";
import { ActionLimits } from "./limits.ts";
import type { ActionRecord } from "../model/action.ts";
import { type SloPause, SloPauseDocument } from "./pause.ts";
import type { Policy, PolicyError } from "./policy.ts";
import { PolicySource } from "./policy-source.ts";
import { type ObjectSource, RollbackEngine, type SloBurns, type SloMode } from "./rollback-engine.ts";
import { type PolicyStatus, ScaleEngine } from "./scale-engine.ts";

export interface SloServiceDeps {
  config: Config;
  client: KubeClient;
  objects: ObjectSource;
  journal: ActionJournal;
  logger: Logger;
  now: () => number;
  /** True while this controller leads and its caches are synced. */
  mayAct: () => boolean;
  /** Per-service RED windows from the OTLP intake; without them no policy is judged (rollback still works). */
  red?: RedSource;
  /** Invalid policies are counted here (neurocontroller_malformed_input_total{source="slo.policy"}). */
  rejects?: RejectSink;
}

export interface SloStatus {
  mode: SloMode;
  leading: boolean;
  paused: SloPause | null;
  /** False until the OTLP intake's RED windows are wired: policies are then listed but not judged. */
  traceMetrics: boolean;
  policies: PolicyStatus[];
  errors: PolicyError[];
  actions: ActionRecord[];
}

export class SloService {
  readonly mode: SloMode;
  private readonly rollback: RollbackEngine;
  private readonly scale?: ScaleEngine;
  readonly policies: PolicySource;
  private readonly pause: SloPauseDocument;
  private running = false;
  private pausedLogged = false;
  private lastError?: string;

  constructor(private readonly d: SloServiceDeps) {
    const { config } = d;
    this.mode = config.str("SLO_MODE") as SloMode;
    const limits = new ActionLimits(config.ms("SLO_COOLDOWN"), config.num("SLO_MAX_ACTIONS_PER_HOUR"));
    limits.seed(d.journal.store.list({ source: "slo", sinceMs: d.now() - Math.max(3_600_000, config.ms("SLO_COOLDOWN")) }));
    this.pause = SloPauseDocument.beside(d.client, config);
    this.rollback = new RollbackEngine({
      client: d.client,
      objects: d.objects,
      journal: d.journal,
      limits,
      logger: d.logger,
      settings: { watchMs: config.ms("SLO_ROLLOUT_WATCH"), readinessGraceMs: config.ms("SLO_READINESS_GRACE") },
      mode: () => this.mode,
      now: d.now,
    });
    this.policies = new PolicySource({
      client: d.client,
      namespace: config.str("LEADER_LEASE_NAMESPACE"),
      configMap: config.str("SLO_POLICY_CONFIGMAP"),
      objects: d.objects,
      logger: d.logger,
      rejects: d.rejects ?? IGNORE_REJECTS,
    });
    if (d.red) {
      const { client, objects, journal, logger, now, red } = d;
      this.scale = new ScaleEngine({ client, objects, journal, limits, logger, red, mode: () => this.mode, now });
    }
  }

  /** What `neurocontroller slo status` shows: mode, pause, each policy's objectives and last burn, invalid policies, recent actions. */
  async status(): Promise<SloStatus> {
    const paused = await this.pause.read().catch(() => undefined);
    const judged = this.scale?.last;
    const policies = judged?.size ? [...judged.values()] : (await this.policies.load().catch(() => [])).map((policy) => ({ policy }));
    return {
      mode: this.mode,
      leading: this.d.mayAct(),
      paused: paused ?? null,
      traceMetrics: this.d.red !== undefined,
      policies,
      errors: this.policies.errors,
      actions: this.d.journal.store
        .list({ limit: 200 })
        .filter((a) => a.source === "slo" || a.target.kind === "SLO")
        .slice(-20),
    };
  }

  /** An operator's pause or resume, recorded (and announced) once by the leader that sees it. */
  private recordPause(s: SloPause & { paused: boolean }): void {
    const step = s.paused ? "pause" : "resume";
    const ns = this.d.config.str("LEADER_LEASE_NAMESPACE");
    const name = `${this.d.config.str("LEADER_LEASE_NAME")}-slo`;
    this.d.journal.record({
      id: `operator:SLO/${ns}/${name}:${step}:${s.since}`,
      time: Number.isFinite(Date.parse(s.since)) ? new Date(Date.parse(s.since)).toISOString() : new Date(this.d.now()).toISOString(),
      source: "operator",
      mode: this.mode === "on" ? "on" : "dry-run",
      target: { kind: "SLO", namespace: ns, name },
      step,
      outcome: "done",
      reason: `neurocontroller slo ${step}`,
      summary: s.paused ? `SLO actions paused by ${s.by || "?"}: no rollback or scaling until resumed` : `SLO actions resumed by ${s.by || "?"}`,
      actor: s.by || undefined,
      announce: true,
    });
  }

  /** One evaluation; a tick still running makes this one a no-op. */
  async tick(): Promise<void> {
    if (this.mode === "off" || this.running || !this.d.mayAct()) return;
    this.running = true;
    try {
      const state = await this.pause.state();
      if (state) this.recordPause(state);
      const paused = state?.paused ? state : undefined;
      if (paused) {
        if (!this.pausedLogged) this.d.logger.info("SLO actions paused", { by: paused.by, since: paused.since });
        this.pausedLogged = true;
        return;
      }
      this.pausedLogged = false;
      const policies = this.d.red ? await this.policies.load() : [];
      await this.rollback.tick(this.d.red ? sloBurns(policies, this.d.red, this.d.now()) : undefined);
      if (this.scale) await this.scale.tick(policies);
      this.lastError = undefined;
    } catch (e) {
      // Once per distinct error (a missing RBAC rule would otherwise warn every SLO_INTERVAL).
      if (String(e) !== this.lastError) this.d.logger.warn("SLO evaluation failed", { error: String(e) });
      this.lastError = String(e);
    } finally {
      this.running = false;
    }
  }
}

/** The Deployments whose policy allows rollback and whose objectives burn now, with the evidence. */
export function sloBurns(policies: Policy[], red: RedSource, now: number): SloBurns {
  const out: SloBurns = new Map();
  for (const p of policies) {
    if (!p.actions.includes("rollback")) continue;
    const r = evaluateBurn(p, red, now);
    if (r.burning) out.set(`${p.namespace}/${p.deployment}`, r.evidence);
  }
  return out;
}

/** What the controller runtime offers the SLO engine (ControllerRuntime satisfies it). */
export interface SloHost {
  client: KubeClient;
  caches: ObjectSource;
  actions: ActionJournal;
  readonly isLeader: boolean;
  readonly synced: boolean;
  metrics: { malformedInput: ConstructorParameters<typeof CountingRejectSink>[0] };
  /** The OTLP intake's RED windows, once wired (i14-otlp); without them policies are listed, not judged. */
  red?: RedSource;
}

/** The runtime's SLO service: leader only (and synced), its own logger, invalid policies counted. */
export function sloServiceFor(host: SloHost, config: Config, logger: Logger, now: () => number): SloService {
  return new SloService({
    config,
    client: host.client,
    objects: host.caches,
    journal: host.actions,
    logger: logger.child({ component: "slo" }),
    now,
    mayAct: () => host.isLeader && host.synced,
    rejects: new CountingRejectSink(host.metrics.malformedInput, logger),
    red: host.red,
  });
}
