// The rules' settings, read once from the configuration (keys of group "rules" in src/config/schema.ts,
// plus the seed's DIAGNOSIS_UNREADY_* keys) and handed to every evaluation: rules never see Config.
import type { Config } from "../config/load.ts";

export interface RuleSettings {
  /** RULE_POD_RESTART_COUNT restarts within RULE_POD_RESTART_WINDOW raise HighRestartRate. */
  podRestartCount: number;
  podRestartWindowMs: number;
  /** RULE_POD_NOT_READY_FOR */
  podNotReadyForMs: number;
  /** RULE_POD_PENDING_FOR */
  podPendingForMs: number;
  /** RULE_POD_EVICTED_WINDOW */
  podEvictedWindowMs: number;
  /** RULE_POD_TERMINATING_FOR */
  podTerminatingForMs: number;
  /** RULE_NODE_NOT_READY_FOR */
  nodeNotReadyForMs: number;
  /** RULE_NODE_FLAP_COUNT transitions within RULE_NODE_FLAP_WINDOW raise NodeReadyFlapping. */
  nodeFlapCount: number;
  nodeFlapWindowMs: number;
  /** RULE_DEPLOYMENT_UNAVAILABLE_FOR (also DaemonSets and StatefulSets) */
  deploymentUnavailableForMs: number;
  /** RULE_GENERATION_OBSERVED_GRACE */
  generationObservedGraceMs: number;
  /** RULE_ENDPOINTS_EMPTY_FOR */
  endpointsEmptyForMs: number;
  /** RULE_EVENT_MAX_AGE */
  eventMaxAgeMs: number;
  /** RULE_EVENT_UNHEALTHY_COUNT occurrences within RULE_EVENT_UNHEALTHY_WINDOW raise an anomaly. */
  eventUnhealthyCount: number;
  eventUnhealthyWindowMs: number;
  /** RULE_JOB_FAILED */
  jobFailed: boolean;
  /** DIAGNOSIS_UNREADY_REPLICA_PERCENT (a ratio, 0..1) held for DIAGNOSIS_UNREADY_THRESHOLD_DURATION. */
  unreadyReplicaRatio: number;
  unreadyThresholdMs: number;
}

export function ruleSettings(cfg: Config): RuleSettings {
  return {
    podRestartCount: cfg.num("RULE_POD_RESTART_COUNT"),
    podRestartWindowMs: cfg.ms("RULE_POD_RESTART_WINDOW"),
    podNotReadyForMs: cfg.ms("RULE_POD_NOT_READY_FOR"),
    podPendingForMs: cfg.ms("RULE_POD_PENDING_FOR"),
    podEvictedWindowMs: cfg.ms("RULE_POD_EVICTED_WINDOW"),
    podTerminatingForMs: cfg.ms("RULE_POD_TERMINATING_FOR"),
    nodeNotReadyForMs: cfg.ms("RULE_NODE_NOT_READY_FOR"),
    nodeFlapCount: cfg.num("RULE_NODE_FLAP_COUNT"),
    nodeFlapWindowMs: cfg.ms("RULE_NODE_FLAP_WINDOW"),
    deploymentUnavailableForMs: cfg.ms("RULE_DEPLOYMENT_UNAVAILABLE_FOR"),
    generationObservedGraceMs: cfg.ms("RULE_GENERATION_OBSERVED_GRACE"),
    endpointsEmptyForMs: cfg.ms("RULE_ENDPOINTS_EMPTY_FOR"),
    eventMaxAgeMs: cfg.ms("RULE_EVENT_MAX_AGE"),
    eventUnhealthyCount: cfg.num("RULE_EVENT_UNHEALTHY_COUNT"),
    eventUnhealthyWindowMs: cfg.ms("RULE_EVENT_UNHEALTHY_WINDOW"),
    jobFailed: cfg.bool("RULE_JOB_FAILED"),
    unreadyReplicaRatio: cfg.num("DIAGNOSIS_UNREADY_REPLICA_PERCENT"),
    unreadyThresholdMs: cfg.ms("DIAGNOSIS_UNREADY_THRESHOLD_DURATION"),
  };
}
