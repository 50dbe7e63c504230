// Every configuration key, declared once: name, type, default, doc.
// The README's configuration table and `check-config` are generated from this list.

export type KeyType = "duration" | "int" | "float" | "ratio" | "bool" | "string" | "list" | "size" | "hostport" | "url";

export interface KeyDecl {
  key: string;
  type: KeyType;
  default: string;
  doc: string;
  group: string;
  /** Never printed; may also be read from `<KEY>_FILE`. */
  secret?: boolean;
  /** Inclusive lower bound for numeric/duration types (ms for durations). */
  min?: number;
  max?: number;
}

const d = (group: string, key: string, type: KeyType, def: string, doc: string, extra: Partial<KeyDecl> = {}): KeyDecl => ({
  group,
  key,
  type,
  default: def,
  doc,
  ...extra,
});

export const SCHEMA: KeyDecl[] = [
  // --- seed keys (names and meaning kept) ---
  d("diagnosis", "DIAGNOSIS_CLEAN_INTERVAL", "duration", "5s", "How often the Cleaner deduplicates the raw anomaly pool and prunes both pools.", { min: 100 }),
  d("diagnosis", "DIAGNOSIS_WRITE_INTERVAL", "duration", "6s", "How often cleaned anomalies are appended to cleaned_events.log (and state is flushed to disk; batched to spare SD cards).", { min: 100 }),
  d("diagnosis", "DIAGNOSIS_RETENTION_RAW_DURATION", "duration", "10m", "How long raw anomaly records are kept in memory before pruning.", { min: 1000 }),
  d("diagnosis", "DIAGNOSIS_RETENTION_CLEANED_DURATION", "duration", "5m", "How long a cleaned (deduplicated) entry is kept; the same kind/namespace/name/reason is not logged again while it is kept and still firing.", { min: 1000 }),
  d("diagnosis", "DIAGNOSIS_UNREADY_THRESHOLD_DURATION", "duration", "7s", "How long a Deployment's unready ratio must stay at or above DIAGNOSIS_UNREADY_REPLICA_PERCENT before it is reported."),
  d("diagnosis", "DIAGNOSIS_ALERT_DISPATCH_INTERVAL", "duration", "5s", "How often the alert dispatcher polls for alerts to send.", { min: 100 }),
  d("diagnosis", "DIAGNOSIS_UNREADY_REPLICA_PERCENT", "ratio", "0.6", "Unready replicas / desired at or above this ratio (0..1) marks a Deployment as severely degraded."),
  d("kubernetes", "KUBERNETES_API_HEALTH_CHECK_INTERVAL", "duration", "15s", "How often the API server's /readyz (falling back to /healthz) is checked; failures raise an anomaly instead of exiting.", { min: 1000 }),
  d("email", "ENABLE_EMAIL_ALERT", "bool", "true", "Send email alerts. Email stays off until MAIL_SMTP_HOST, MAIL_FROM and MAIL_TO are set."),
  d("email", "MAIL_SMTP_HOST", "string", "", "SMTP server host name."),
  d("email", "MAIL_SMTP_PORT", "int", "587", "SMTP server port (587 STARTTLS, 465 implicit TLS, 25 plain).", { min: 1, max: 65535 }),
  d("email", "MAIL_USERNAME", "string", "", "SMTP user name (empty: no authentication)."),
  d("email", "MAIL_PASSWORD", "string", "", "SMTP password or app token.", { secret: true }),
  d("email", "MAIL_FROM", "string", "", "Sender address."),
  d("email", "MAIL_TO", "list", "", "Recipients, comma separated; every one receives each mail."),
  d("slack", "ENABLE_SLACK_ALERT", "bool", "true", "Send Slack alerts. Slack stays off until SLACK_WEBHOOK_URL is set."),
  d("slack", "SLACK_WEBHOOK_URL", "url", "", "Slack incoming-webhook URL.", { secret: true }),
  d("slack", "SLACK_ALERT_DISPATCH_INTERVAL", "duration", "5s", "Minimum time between two Slack messages.", { min: 100 }),

  // --- runtime ---
  d("runtime", "CLUSTER_ID", "string", "default", "Name of this cluster in alerts, MQTT topics and the leader-election state."),
  d("runtime", "NEURO_LOG_DIR", "string", "/var/log/neurocontroller", "Directory of cleaned_events.log."),
  d("runtime", "NEURO_STATE_DIR", "string", "/var/lib/neurocontroller", "Directory of the state database (state.db)."),
  d("runtime", "NEURO_LOG_MAX_SIZE", "size", "10MiB", "cleaned_events.log is rotated when it would grow past this size.", { min: 1024 }),
  d("runtime", "NEURO_LOG_MAX_FILES", "int", "5", "Rotated cleaned_events.log files kept (cleaned_events.log.1 … .N).", { min: 1, max: 100 }),
  d("runtime", "NEURO_LOG_LEVEL", "string", "info", "Level of the controller's own log on stderr: debug, info, warn or error."),
  d("runtime", "NEURO_HTTP_ADDR", "hostport", "127.0.0.1:9873", "Listen address of /healthz, /readyz and /metrics (host:port; port 0 disables)."),
  d("runtime", "NEURO_EVALUATE_INTERVAL", "duration", "5s", "How often every cached object is re-evaluated, so duration rules fire and clear without new events.", { min: 100 }),
  d("runtime", "NEURO_RAW_POOL_MAX", "int", "10000", "Upper bound on raw anomaly records kept in memory, whatever the event rate.", { min: 100 }),

  // --- leader election ---
  d("leader", "LEADER_ELECTION", "bool", "true", "Use a coordination.k8s.io/v1 Lease so exactly one controller in the cluster is active."),
  d("leader", "LEADER_LEASE_NAME", "string", "neurocontroller", "Name of the Lease (and of the ConfigMap holding what the leader already logged)."),
  d("leader", "LEADER_LEASE_NAMESPACE", "string", "kube-system", "Namespace of the Lease and the state ConfigMap."),
  d("leader", "LEADER_LEASE_DURATION", "duration", "15s", "How long a lease is valid without renewal; a standby takes over after this.", { min: 1000 }),
  d("leader", "LEADER_RENEW_DEADLINE", "duration", "10s", "The leader steps down if it could not renew for this long.", { min: 500 }),
  d("leader", "LEADER_RETRY_PERIOD", "duration", "2s", "How often leaders renew and standbys try to acquire.", { min: 100 }),
  d("leader", "LEADER_IDENTITY", "string", "", "This controller's identity in the Lease (empty: host name + process id)."),

  // --- rules ---
  d("rules", "RULE_POD_RESTART_COUNT", "int", "5", "Container restarts within RULE_POD_RESTART_WINDOW that raise HighRestartRate.", { min: 1 }),
  d("rules", "RULE_POD_RESTART_WINDOW", "duration", "10m", "Window for RULE_POD_RESTART_COUNT.", { min: 1000 }),
  d("rules", "RULE_POD_NOT_READY_FOR", "duration", "2m", "A running Pod whose Ready condition is False for longer than this raises NotReady."),
  d("rules", "RULE_POD_PENDING_FOR", "duration", "5m", "A Pod Pending (unscheduled or not started) for longer than this raises PendingTooLong."),
  d("rules", "RULE_POD_EVICTED_WINDOW", "duration", "1h", "An evicted Pod raises Evicted for this long after its eviction (evicted Pods linger until garbage-collected)."),
  d("rules", "RULE_POD_TERMINATING_FOR", "duration", "5m", "A Pod still present this long after its deletion grace period ended raises StuckTerminating."),
  d("rules", "RULE_NODE_NOT_READY_FOR", "duration", "40s", "A Node whose Ready condition is False/Unknown for longer than this raises NodeNotReady."),
  d("rules", "RULE_NODE_FLAP_COUNT", "int", "3", "Ready transitions within RULE_NODE_FLAP_WINDOW that raise NodeReadyFlapping.", { min: 2 }),
  d("rules", "RULE_NODE_FLAP_WINDOW", "duration", "10m", "Window for RULE_NODE_FLAP_COUNT.", { min: 1000 }),
  d("rules", "RULE_DEPLOYMENT_UNAVAILABLE_FOR", "duration", "1m", "A Deployment with unavailable replicas (ready < desired) for longer than this raises UnavailableReplica."),
  d("rules", "RULE_GENERATION_OBSERVED_GRACE", "duration", "1m", "A Deployment/StatefulSet/DaemonSet whose spec change (metadata.generation) its controller has not observed for longer than this raises GenerationNotObserved."),
  d("rules", "RULE_ENDPOINTS_EMPTY_FOR", "duration", "10s", "A selector-bearing Service with no ready endpoint for longer than this raises NoReadyAddress."),
  d("rules", "RULE_EVENT_MAX_AGE", "duration", "10m", "Warning events whose last occurrence is older than this are ignored (and stop firing)."),
  d("rules", "RULE_EVENT_UNHEALTHY_COUNT", "int", "3", "Unhealthy (probe failure) occurrences within RULE_EVENT_UNHEALTHY_WINDOW that raise an anomaly.", { min: 1 }),
  d("rules", "RULE_EVENT_UNHEALTHY_WINDOW", "duration", "40s", "Window for RULE_EVENT_UNHEALTHY_COUNT.", { min: 1000 }),
  d("rules", "RULE_JOB_FAILED", "bool", "true", "Raise JobFailed for Jobs whose Failed condition is True."),
];

export const SCHEMA_BY_KEY: ReadonlyMap<string, KeyDecl> = new Map(SCHEMA.map((k) => [k.key, k]));
