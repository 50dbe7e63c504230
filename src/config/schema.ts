// Every configuration key, declared once: name, type, default, bounds, doc.
// docs/configuration.md's table (npm run docs), `check-config` and the loader's zod schema (src/config/value-schema.ts)
// are generated from this list; `ConfigKey` and the typed accessors make a misspelled key a compile error.

export type KeyType = "duration" | "int" | "float" | "ratio" | "bool" | "string" | "list" | "size" | "hostport" | "url" | "enum" | "file";

export interface KeyDecl<K extends string = string, T extends KeyType = KeyType> {
  key: K;
  type: T;
  default: string;
  doc: string;
  group: string;
  /** Never printed; may also be read from `<KEY>_FILE`. */
  secret?: boolean;
  /** Inclusive bounds for numeric, size and duration types (ms for durations, bytes for sizes). */
  min?: number;
  max?: number;
  /** enum: the accepted values (compared case-insensitively, stored lower-case). */
  values?: readonly string[];
  /** url: accepted schemes, without the colon (default http and https). */
  schemes?: readonly string[];
  /** url: plain http is also accepted when the host is a loopback address (tests, a local relay). */
  loopbackHttp?: boolean;
  /** string, list: a form every non-empty value (each item of a list) must have, and its description. */
  pattern?: RegExp;
  patternDoc?: string;
  /** string: the value must not be empty. */
  required?: boolean;
  /** string, url, list items: maximum length in characters (default MAX_TEXT_LENGTH). */
  maxLength?: number;
  /** list: maximum number of items (default MAX_LIST_ITEMS). */
  maxItems?: number;
  /**
   * duration: never used as a timer delay (only compared with timestamps), so `max` may exceed
   * MAX_TIMER_MS. Every other duration is capped there: setTimeout turns anything longer into 1 ms.
   */
  notTimer?: boolean;
}

/** setTimeout/setInterval clamp anything above 2^31-1 ms to 1 ms: no duration may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The largest accepted value of a duration key (see KeyDecl.notTimer). */
export function durationMax(decl: KeyDecl): number {
  return decl.notTimer ? (decl.max ?? MAX_TIMER_MS) : Math.min(decl.max ?? MAX_TIMER_MS, MAX_TIMER_MS);
}
export const MAX_TEXT_LENGTH = 4096;
export const MAX_LIST_ITEMS = 100;

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const MIB = 1 << 20;
const GIB = 1 << 30;

const HOST_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/;
const HOST_NAME_DOC = "a host name or IP address";
const MAIL_ADDRESS = /^(?:[^<>@\s,]+@[^<>@\s,]+|[^<>@,]*<[^<>@\s,]+@[^<>@\s,]+>)$/;
const MAIL_ADDRESS_DOC = 'an email address ("ops@example.org" or "Ops <ops@example.org>")';
const TOPIC_PREFIX = /^[^+#]+$/;
const TOPIC_PREFIX_DOC = "an MQTT topic without the wildcards + and #";
const TOPIC_LEVEL = /^[^+#/]+$/;
const TOPIC_LEVEL_DOC = "one MQTT topic level: no /, + or #";
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const CLUSTER_NAME_DOC = "1 to 63 letters, digits, '.', '_' or '-' (it becomes an MQTT topic level)";
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const DNS_SUBDOMAIN_DOC = "a Kubernetes object name (lower-case letters, digits, '-' and '.')";
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_DOC = "a Kubernetes namespace name (lower-case letters, digits and '-')";
const KIND_NAME = /^[A-Z][A-Za-z0-9]*$/;
const KIND_NAME_DOC = 'Kubernetes kinds as written in the API ("Node", "Deployment")';
const FILE_MODE = /^0?[0-7]{3}$/;
const FILE_MODE_DOC = 'an octal file mode such as "0660"';
const HTTP_HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+=.*$/;
const HTTP_HEADER_DOC = "name=value with a valid HTTP header name";

const d = <K extends string, T extends KeyType>(
  group: string,
  key: K,
  type: T,
  def: string,
  doc: string,
  extra: Omit<Partial<KeyDecl>, "key" | "type"> = {},
): KeyDecl<K, T> => ({ group, key, type, default: def, doc, ...extra });

// biome-ignore format: one key per line keeps the schema a table that reads (and diffs) row by row
export const SCHEMA = [
  // --- seed keys (names and meaning kept) ---
  d("diagnosis", "DIAGNOSIS_CLEAN_INTERVAL", "duration", "5s", "How often the Cleaner deduplicates the raw anomaly pool and prunes both pools.", { min: 100, max: H }),
  d("diagnosis", "DIAGNOSIS_WRITE_INTERVAL", "duration", "6s", "How often cleaned anomalies are appended to cleaned_events.log (and state is flushed to disk; batched to spare SD cards).", { min: 100, max: H }),
  d("diagnosis", "DIAGNOSIS_RETENTION_RAW_DURATION", "duration", "10m", "How long raw anomaly records are kept in memory before pruning.", { min: 1000, max: 7 * D }),
  d("diagnosis", "DIAGNOSIS_RETENTION_CLEANED_DURATION", "duration", "5m", "How long a cleaned (deduplicated) entry is kept; the same kind/namespace/name/reason is not logged again while it is kept and still firing.", { min: 1000, max: 7 * D }),
  d("diagnosis", "DIAGNOSIS_UNREADY_THRESHOLD_DURATION", "duration", "7s", "How long a Deployment's unready ratio must stay at or above DIAGNOSIS_UNREADY_REPLICA_PERCENT before it is reported.", { max: 7 * D }),
  d("diagnosis", "DIAGNOSIS_ALERT_DISPATCH_INTERVAL", "duration", "5s", "How often the alert dispatcher polls for alerts to send.", { min: 100, max: H }),
  d("diagnosis", "DIAGNOSIS_UNREADY_REPLICA_PERCENT", "ratio", "0.6", "Unready replicas / desired at or above this ratio (0..1) marks a Deployment as severely degraded."),
  d("kubernetes", "KUBERNETES_API_HEALTH_CHECK_INTERVAL", "duration", "15s", "How often the API server's /readyz (falling back to /healthz) is checked; failures raise an anomaly instead of exiting.", { min: 1000, max: H }),
  d("email", "ENABLE_EMAIL_ALERT", "bool", "true", "Send email alerts. Email stays off until MAIL_SMTP_HOST, MAIL_FROM and MAIL_TO are set."),
  d("email", "MAIL_SMTP_HOST", "string", "", "SMTP server host name.", { pattern: HOST_NAME, patternDoc: HOST_NAME_DOC }),
  d("email", "MAIL_SMTP_PORT", "int", "587", "SMTP server port (587 STARTTLS, 465 implicit TLS, 25 plain).", { min: 1, max: 65535 }),
  d("email", "MAIL_USERNAME", "string", "", "SMTP user name (empty: no authentication)."),
  d("email", "MAIL_PASSWORD", "string", "", "SMTP password or app token.", { secret: true }),
  d("email", "MAIL_FROM", "string", "", "Sender address.", { pattern: MAIL_ADDRESS, patternDoc: MAIL_ADDRESS_DOC }),
  d("email", "MAIL_TO", "list", "", "Recipients, comma separated; every one receives each mail.", { pattern: MAIL_ADDRESS, patternDoc: MAIL_ADDRESS_DOC }),
  d("slack", "ENABLE_SLACK_ALERT", "bool", "true", "Send Slack alerts. Slack stays off until SLACK_WEBHOOK_URL is set."),
  d("slack", "SLACK_WEBHOOK_URL", "url", "", "Slack incoming-webhook URL (https; plain http only to a loopback address, e.g. a local relay).", { secret: true, schemes: ["https"], loopbackHttp: true }),
  d("slack", "SLACK_ALERT_DISPATCH_INTERVAL", "duration", "5s", "Minimum time between two Slack messages.", { min: 100, max: H }),
  d("email", "MAIL_SMTP_TLS", "enum", "starttls", "Transport security: starttls (upgrade required, port 587), tls (implicit TLS, port 465) or none (plain text; only on a trusted network).", { values: ["starttls", "tls", "none"] }),
  d("email", "MAIL_SMTP_CA_FILE", "file", "", "PEM file of the CA that signed the SMTP server's certificate (empty: the system's CAs)."),
  d("mqtt", "ENABLE_MQTT_ALERT", "bool", "true", "Publish alerts over MQTT. MQTT stays off until MQTT_URL is set."),
  d("mqtt", "MQTT_URL", "url", "", "Broker URL: mqtt://host:1883, mqtts://host:8883 (TLS), ws:// or wss:// (MQTT over WebSocket). Credentials belong in MQTT_USERNAME/MQTT_PASSWORD; any user:password in the URL is never printed.", { schemes: ["mqtt", "mqtts", "ws", "wss"] }),
  d("mqtt", "MQTT_USERNAME", "string", "", "Broker user name (empty: anonymous)."),
  d("mqtt", "MQTT_PASSWORD", "string", "", "Broker password.", { secret: true }),
  d("mqtt", "MQTT_CA_FILE", "file", "", "PEM file of the CA that signed the broker's certificate, for mqtts:// (empty: the system's CAs)."),
  d("mqtt", "MQTT_TOPIC_PREFIX", "string", "", "Topic prefix (empty: neurocontroller/<CLUSTER_ID>). Alerts go to <prefix>/alerts, incident state to <prefix>/incidents/<id>, online/offline to <prefix>/status.", { pattern: TOPIC_PREFIX, patternDoc: TOPIC_PREFIX_DOC }),
  d("mqtt", "MQTT_CLIENT_ID", "string", "", "MQTT client id (empty: neurocontroller-<CLUSTER_ID>-<host name>); must be unique on the broker.", { maxLength: 128 }),
  d("mqtt", "MQTT_RECONNECT_MAX", "duration", "30s", "Reconnect delays double from 1s up to this while the broker is unreachable.", { min: 1000, max: H }),
  d("mqtt", "MQTT_COMMAND_KEY", "string", "", "Per-cluster key (at least 16 characters; 32 random bytes recommended) that signs operator commands on <prefix>/silences/set (HMAC-SHA256, docs/security.md). Empty: the command topic is not subscribed at all.", { secret: true, maxLength: 4096 }),
  d("mqtt", "MQTT_COMMAND_KEY_PREVIOUS", "string", "", "The previous command key, still accepted during a key rotation (empty: none).", { secret: true, maxLength: 4096 }),
  d("mqtt", "MQTT_COMMAND_MAX_AGE", "duration", "2m", "A signed command is accepted only while its timestamp is within this of the controller's clock (either way); its nonce is remembered as long.", { min: 1000, max: 3_600_000 }),
  d("mqtt", "MQTT_COMMAND_SIGNER", "string", "", "Name the CLI writes as the signer of the commands it signs (empty: user@host); it becomes the silence's createdBy.", { maxLength: 128 }),
  d("outbox", "ALERT_SEND_TIMEOUT", "duration", "30s", "A channel that has not acknowledged a notification within this time is treated as down (the notification is retried).", { min: 100, max: H }),
  d("outbox", "ALERT_RETRY_MIN_BACKOFF", "duration", "2s", "First retry delay after a failed delivery; doubles (with jitter) per failure.", { min: 10, max: H }),
  d("outbox", "ALERT_RETRY_MAX_BACKOFF", "duration", "5m", "Upper bound of the retry delay while a channel stays down (notifications are kept and retried forever).", { min: 100, max: D }),

  // --- runtime ---
  d("runtime", "CLUSTER_ID", "string", "default", "Name of this cluster in alerts, MQTT topics and the leader-election state.", { required: true, pattern: CLUSTER_NAME, patternDoc: CLUSTER_NAME_DOC }),
  d("runtime", "NEURO_LOG_DIR", "string", "/var/log/neurocontroller", "Directory of cleaned_events.log.", { required: true }),
  d("runtime", "NEURO_STATE_DIR", "string", "/var/lib/neurocontroller", "Directory of the state database (state.db).", { required: true }),
  d("runtime", "NEURO_LOG_MAX_SIZE", "size", "10MiB", "cleaned_events.log is rotated when it would grow past this size.", { min: 1024, max: GIB }),
  d("runtime", "NEURO_LOG_MAX_FILES", "int", "5", "Rotated cleaned_events.log files kept (cleaned_events.log.1 … .N).", { min: 1, max: 100 }),
  d("runtime", "NEURO_LOG_LEVEL", "enum", "info", "Level of the controller's own log on stderr: debug, info, warn or error.", { values: ["debug", "info", "warn", "error"] }),
  d("runtime", "NEURO_HTTP_ADDR", "hostport", "127.0.0.1:9873", "Listen address of /healthz, /readyz and /metrics (host:port; port 0 disables)."),
  // --- status page and Home Assistant discovery (src/web/, src/ha/, docs/status-page.md, docs/home-assistant.md) ---
  d("web", "WEB_ENABLED", "bool", "true", "Serve the live status page at / (and its JSON under /api/v1/) on NEURO_HTTP_ADDR. A non-loopback NEURO_HTTP_ADDR needs WEB_TOKEN, else the page is refused (probes stay open)."),
  d("web", "WEB_TOKEN", "string", "", "Token the status page and its API require (Authorization: Bearer, or one visit to /?token=… that sets a cookie). At least 16 characters. Required when NEURO_HTTP_ADDR is not a loopback address; empty on loopback: no token asked.", { secret: true, maxLength: 4096 }),
  d("web", "WEB_SSE_MAX_CLIENTS", "int", "8", "Live-update (Server-Sent Events) connections served at once; more are answered 503.", { min: 1, max: 100 }),
  d("web", "WEB_UPDATE_INTERVAL", "duration", "2s", "How often the status is rebuilt for connected live pages (only sent when it changed).", { min: 200, max: M }),
  d("home-assistant", "HA_DISCOVERY", "bool", "false", "Publish Home Assistant MQTT discovery configs and states (the leader only; needs MQTT_URL)."),
  d("home-assistant", "HA_DISCOVERY_PREFIX", "string", "homeassistant", "Home Assistant's discovery prefix (its MQTT integration setting).", { pattern: TOPIC_PREFIX, patternDoc: TOPIC_PREFIX_DOC, maxLength: 128 }),
  d("runtime", "NEURO_DEMO_STORY_SPEED", "float", "1", "How fast the built-in demo cluster's story plays (2 = twice as fast; the story lasts about 60s at 1). Only the demo reads it.", { min: 0.1, max: 100 }),
  d("runtime", "NEURO_EVALUATE_INTERVAL", "duration", "5s", "How often the objects whose rules wait on time (a duration to reach, a window to pass) are re-evaluated, so those anomalies fire and clear without new events. Watch events are evaluated at once.", { min: 100, max: H }),
  d("runtime", "NEURO_SHUTDOWN_TIMEOUT", "duration", "10s", "Upper bound on a clean stop (SIGTERM/SIGINT): the leader Lease is released first, then pending cleaned_events.log lines and state are written; whatever is still in flight after this is abandoned (it stays in state.db and is resumed at the next start).", { min: 1000, max: 300_000 }),
  d("runtime", "NEURO_RAW_POOL_MAX", "int", "10000", "Upper bound on raw anomaly records kept in memory, whatever the event rate.", { min: 100, max: 1_000_000 }),

  // --- leader election ---
  d("leader", "LEADER_ELECTION", "bool", "true", "Use a coordination.k8s.io/v1 Lease so exactly one controller in the cluster is active."),
  d("leader", "LEADER_LEASE_NAME", "string", "neurocontroller", "Name of the Lease (and of the ConfigMap holding what the leader already logged).", { required: true, pattern: DNS_SUBDOMAIN, patternDoc: DNS_SUBDOMAIN_DOC, maxLength: 253 }),
  d("leader", "LEADER_LEASE_NAMESPACE", "string", "kube-system", "Namespace of the Lease and the state ConfigMap.", { required: true, pattern: DNS_LABEL, patternDoc: DNS_LABEL_DOC, maxLength: 63 }),
  d("leader", "LEADER_LEASE_DURATION", "duration", "15s", "How long a lease is valid without renewal; a standby takes over after this.", { min: 1000, max: H }),
  d("leader", "LEADER_RENEW_DEADLINE", "duration", "10s", "The leader steps down if it could not renew for this long.", { min: 500, max: H }),
  d("leader", "LEADER_RETRY_PERIOD", "duration", "2s", "How often leaders renew and standbys try to acquire.", { min: 100, max: 10 * M }),
  d("leader", "LEADER_IDENTITY", "string", "", "This controller's identity in the Lease (empty: host name + process id).", { maxLength: 128 }),

  // --- alerting (src/alerting/: levels, grouping timers, per-channel budgets) ---
  d("alerting", "ALERT_GROUP_WAIT", "duration", "30s", "How long a new incident is held before its first notification, so related anomalies arrive in the same message (Alertmanager group_wait). High-risk incidents skip it.", { max: D }),
  d("alerting", "ALERT_GROUP_INTERVAL", "duration", "5m", "Minimum time between two notifications about the same incident when it changes (Alertmanager group_interval); resolved notifications also go out on this schedule.", { min: 1000, max: D }),
  d("alerting", "ALERT_REPEAT_INTERVAL", "duration", "4h", "An incident that is still firing and unchanged is re-sent after this long (Alertmanager repeat_interval).", { min: 1000, max: 7 * D }),
  d("alerting", "ALERT_LEVEL_STRICT_SEVERITY", "enum", "critical", "Lowest anomaly severity (info, warning or critical) that makes an incident strict (email as well as Slack and MQTT). UnreadyReplicaRatio is always at least strict.", { values: ["info", "warning", "critical"] }),
  d("alerting", "ALERT_LEVEL_HIGH_RISK_KINDS", "list", "Node,Cluster", "A critical anomaly on one of these kinds makes its incident high-risk (immediate email, Slack and MQTT).", { pattern: KIND_NAME, patternDoc: KIND_NAME_DOC }),
  d("alerting", "ALERT_LEVEL_HIGH_RISK_MIN_PODS", "int", "5", "An incident involving at least this many distinct Pods is high-risk.", { min: 1, max: 10_000 }),
  d("alerting", "ALERT_LEVEL_HIGH_RISK_WORKLOAD_DOWN", "bool", "true", "An incident in which a whole Deployment/StatefulSet/DaemonSet has no ready replica is high-risk."),
  d("alerting", "ALERT_EMAIL_MAX_PER_HOUR", "int", "20", "Email budget: a token bucket of this size refilled at this many per hour. Notifications over budget are delayed and merged, never dropped.", { min: 1, max: 3600 }),
  d("alerting", "SILENCE_MAX_DURATION", "duration", "30d", "Longest a silence may last; longer (or unparsable) durations are refused, from the CLI and over MQTT alike.", { min: 60_000, max: 366 * 86_400_000, notTimer: true }),
  d("alerting", "ALERT_MQTT_MAX_PER_MINUTE", "int", "60", "MQTT alert budget: a token bucket of this size refilled at this many per minute. Over budget: delayed and merged, never dropped.", { min: 1, max: 6000 }),

  // --- healing (M6 node self-healing, src/healing/, docs/healing.md) ---
  d("healing", "HEALING_MODE", "enum", "dry-run", "off: no healing decisions; dry-run: decisions are logged, recorded and announced but no write is made; on: the controller cordons, drains, releases and uncordons nodes.", { values: ["off", "dry-run", "on"] }),
  d("healing", "HEALING_INTERVAL", "duration", "15s", "How often the leader re-reads nodes and pods and takes the next healing step.", { min: 100, max: H }),
  d("healing", "HEALING_NODE_NOTREADY_AFTER", "duration", "5m", "A node NotReady/Unknown for longer than this is cordoned and drained.", { max: 7 * D }),
  d("healing", "HEALING_DRAIN_TIMEOUT", "duration", "10m", "Evictions refused by a PodDisruptionBudget (429) are retried with backoff until this long after the drain began.", { min: 1000, max: D }),
  d("healing", "HEALING_FORCE_AFTER", "duration", "10m", "After the cordon, a node still NotReady this long has its pods released (out-of-service taint on 1.28+, else force delete) so their controllers recreate them elsewhere; 0 disables.", { max: 7 * D }),
  d("healing", "HEALING_UNCORDON_AFTER", "duration", "2m", "A node we cordoned that has been Ready this long is uncordoned and our taint and annotation removed.", { max: D }),
  d("healing", "HEALING_DRAIN_UNMANAGED", "bool", "false", "Also evict (and release) pods that no controller would recreate."),
  d("healing", "HEALING_MIN_HEALTHY_PERCENT", "int", "51", "No healing step while fewer than this percentage of nodes are Ready (a partition, or our own node cut off, looks like everything down).", { min: 0, max: 100 }),
  d("healing", "HEALING_CONTROL_PLANE", "bool", "false", "Also remediate control-plane nodes."),
  d("healing", "HEALING_MAX_CONCURRENT", "int", "1", "At most this many nodes under remediation at once.", { min: 1, max: 100 }),
  d("healing", "HEALING_COOLDOWN", "duration", "15m", "A node recovered from a remediation is not remediated again for this long.", { max: 7 * D, notTimer: true }),

  // --- rules ---
  d("rules", "RULE_POD_RESTART_COUNT", "int", "5", "Container restarts within RULE_POD_RESTART_WINDOW that raise HighRestartRate.", { min: 1, max: 1000 }),
  d("rules", "RULE_POD_RESTART_WINDOW", "duration", "10m", "Window for RULE_POD_RESTART_COUNT.", { min: 1000, max: D }),
  d("rules", "RULE_POD_NOT_READY_FOR", "duration", "2m", "A running Pod whose Ready condition is False for longer than this raises NotReady.", { max: 7 * D }),
  d("rules", "RULE_POD_PENDING_FOR", "duration", "5m", "A Pod Pending (unscheduled or not started) for longer than this raises PendingTooLong.", { max: 7 * D }),
  d("rules", "RULE_POD_EVICTED_WINDOW", "duration", "1h", "An evicted Pod raises Evicted for this long after its eviction (evicted Pods linger until garbage-collected).", { max: 7 * D }),
  d("rules", "RULE_POD_TERMINATING_FOR", "duration", "5m", "A Pod still present this long after its deletion grace period ended raises StuckTerminating.", { max: 7 * D }),
  d("rules", "RULE_NODE_NOT_READY_FOR", "duration", "40s", "A Node whose Ready condition is False/Unknown for longer than this raises NodeNotReady.", { max: 7 * D }),
  d("rules", "RULE_NODE_FLAP_COUNT", "int", "3", "Ready transitions within RULE_NODE_FLAP_WINDOW that raise NodeReadyFlapping.", { min: 2, max: 1000 }),
  d("rules", "RULE_NODE_FLAP_WINDOW", "duration", "10m", "Window for RULE_NODE_FLAP_COUNT.", { min: 1000, max: D }),
  d("rules", "RULE_DEPLOYMENT_UNAVAILABLE_FOR", "duration", "1m", "A Deployment with unavailable replicas (ready < desired) for longer than this raises UnavailableReplica.", { max: 7 * D }),
  d("rules", "RULE_GENERATION_OBSERVED_GRACE", "duration", "1m", "A Deployment/StatefulSet/DaemonSet whose spec change (metadata.generation) its controller has not observed for longer than this raises GenerationNotObserved.", { max: 7 * D }),
  d("rules", "RULE_ENDPOINTS_EMPTY_FOR", "duration", "10s", "A selector-bearing Service with no ready endpoint for longer than this raises NoReadyAddress.", { max: 7 * D }),
  d("rules", "RULE_EVENT_MAX_AGE", "duration", "10m", "Warning events whose last occurrence is older than this are ignored (and stop firing).", { max: 7 * D }),
  d("rules", "RULE_EVENT_UNHEALTHY_COUNT", "int", "3", "Unhealthy (probe failure) occurrences within RULE_EVENT_UNHEALTHY_WINDOW that raise an anomaly.", { min: 1, max: 1000 }),
  d("rules", "RULE_EVENT_UNHEALTHY_WINDOW", "duration", "40s", "Window for RULE_EVENT_UNHEALTHY_COUNT.", { min: 1000, max: D }),
  d("rules", "RULE_JOB_FAILED", "bool", "true", "Raise JobFailed for Jobs whose Failed condition is True."),

  // --- agent (eBPF syscall latency; `neurocontroller agent`, see agent/README.md; MQTT via MQTT_*) ---
  d("agent", "AGENT_NODE_NAME", "string", "", "Node name in span topics (<prefix>/spans/<node>) and bind topics (<prefix>/trace/bind/<node>); empty: the host name.", { pattern: TOPIC_LEVEL, patternDoc: TOPIC_LEVEL_DOC }),
  d("agent", "AGENT_SOCKET_PATH", "string", "/run/neurocontroller/agent.sock", "Unix socket where applications bind their pid/tid to a trace (HTTP/JSON: POST /bind, POST /unbind); empty disables it.", { maxLength: 107 }),
  d("agent", "AGENT_SOCKET_MODE", "string", "0660", "File mode of the bind socket (octal); who may write to it may have any process traced.", { pattern: FILE_MODE, patternDoc: FILE_MODE_DOC }),
  d("agent", "AGENT_SLOW_SYSCALL", "duration", "10ms", "A traced syscall at least this long is reported individually (with its timestamp) besides the per-syscall totals; 0 disables outliers.", { min: 0, max: M }),
  d("agent", "AGENT_BIND_TTL", "duration", "30s", "Lifetime of a binding that does not give ttlMs; bindings expire so a forgotten unbind (or a reused pid) cannot trace forever.", { min: 100, max: D }),
  d("agent", "AGENT_BIND_TTL_MAX", "duration", "5m", "Upper bound on the ttlMs a binding may ask for.", { min: 100, max: D }),
  d("agent", "AGENT_POOL_MAX", "int", "1024", "Bindings kept at once; past this the binding closest to expiry is evicted (counted in neuro_agent_pool_evictions).", { min: 1, max: 4000 }),
  d("agent", "AGENT_INHERIT_CHILDREN", "bool", "true", "Threads and processes started by a bound thread are traced under the same binding (sched_process_fork, in-kernel)."),
  d("agent", "AGENT_FLUSH_INTERVAL", "duration", "1s", "How often the per-syscall totals are read from the kernel and published as a span batch.", { min: 50, max: M }),
  d("agent", "AGENT_QUEUE_MAX", "int", "500", "Span batches kept in memory while the broker is unreachable; the oldest are dropped (counted and reported) past this.", { min: 1, max: 100_000 }),
  d("agent", "AGENT_RINGBUF_SIZE", "size", "256KiB", "Kernel ring buffer for slow-syscall events (rounded up to a power of two).", { min: 4096, max: 64 * MIB }),

  // --- host health (i16-host: agent snapshots on <prefix>/hosts/<node>, the Host rules; docs/host-health.md) ---
  d("host", "HOST_HEALTH_ENABLE", "bool", "true", "Agent: measure the node and publish its host-health snapshot; controller: read the snapshots and raise Host anomalies (both need MQTT_URL)."),
  d("host", "HOST_HEALTH_INTERVAL", "duration", "15s", "How often the agent measures the node (temperature, throttling, disks, clock) and publishes its retained snapshot.", { min: 200, max: H }),
  d("host", "NEURO_HOST_ROOT", "string", "/", "Agent: prefix of every /sys, /proc and /run file read for host health (tests point it at a fake tree). Pi figures missing there are reported absent, never healthy.", { required: true, maxLength: 1024 }),
  d("host", "HOST_UNREPORTED_AFTER", "int", "4", "A node whose agent has reported before, and whose Kubernetes Node is Ready, raises HostUnreported after this many of its snapshot intervals without a new snapshot.", { min: 2, max: 1000 }),
  d("host", "HOST_TEMPERATURE_WARNING", "float", "80", "SoC temperature (°C) at or above which HighTemperature fires as a warning (a Pi 4/5 starts throttling at 80 °C).", { min: 20, max: 150 }),
  d("host", "HOST_TEMPERATURE_CRITICAL", "float", "85", "SoC temperature (°C) at or above which HighTemperature is critical (a Pi 4/5 throttles hard at 85 °C).", { min: 20, max: 150 }),
  d("host", "HOST_DISK_WARNING_PERCENT", "float", "90", "Used space (%) of a node's filesystem at or above which DiskAlmostFull fires as a warning.", { min: 1, max: 100 }),
  d("host", "HOST_DISK_CRITICAL_PERCENT", "float", "97", "Used space (%) at or above which DiskAlmostFull is critical.", { min: 1, max: 100 }),
  d("host", "HOST_CLOCK_SKEW_MAX", "duration", "2s", "A node whose clock differs from the API server's (its Date header; the controller's clock until it answered) by more than this, measured on each live snapshot, raises ClockUnsynchronized.", { min: 100, max: H, notTimer: true }),

  // --- trace (controller side: span aggregation and export, src/trace/) ---
  d("trace", "TRACE_ENABLE", "bool", "true", "Subscribe to agent span batches (<prefix>/spans/+) when MQTT_URL is set."),
  d("trace", "TRACE_APM_SERVER_URL", "url", "", "Elastic APM Server base URL; spans are POSTed to <url>/intake/v2/events (NDJSON). Empty disables the APM export."),
  d("trace", "TRACE_APM_SECRET_TOKEN", "string", "", "APM Server secret token (Authorization: Bearer).", { secret: true }),
  d("trace", "TRACE_APM_API_KEY", "string", "", "APM Server API key (Authorization: ApiKey), used instead of the secret token when set.", { secret: true }),
  d("trace", "TRACE_OTLP_ENDPOINT", "url", "", "OTLP/HTTP endpoint (JSON); spans are POSTed to <endpoint>/v1/traces unless the URL already ends with it. Empty disables the OTLP export."),
  d("trace", "TRACE_OTLP_HEADERS", "list", "", "Extra OTLP request headers as name=value, comma separated (e.g. authorization=Bearer x).", { secret: true, pattern: HTTP_HEADER, patternDoc: HTTP_HEADER_DOC }),
  d("trace", "TRACE_EXPORT_INTERVAL", "duration", "2s", "How often aggregated spans are exported.", { min: 100, max: 10 * M }),
  d("trace", "TRACE_MAX_TRACES", "int", "5000", "Traces aggregated between two exports; past this the batch is exported early.", { min: 10, max: 1_000_000 }),
  d("trace", "TRACE_ALERT_SYSCALL_LATENCY", "duration", "1s", "A single syscall at least this long in a service's trace raises SyscallLatencyHigh for the service; 0 disables.", { min: 0, max: H }),

  // --- slo-otlp (OTLP/HTTP trace intake and RED windows, src/slo/intake.ts, docs/otlp.md) ---
  d("slo-otlp", "SLO_OTLP_ENABLED", "bool", "true", "Accept OTLP/HTTP traces on POST /v1/traces of the HTTP endpoint (NEURO_HTTP_ADDR) and keep per-service RED windows."),
  d("slo-otlp", "SLO_OTLP_TOKEN", "string", "", "Bearer token OTLP senders off the loopback must present (Authorization: Bearer). Empty: only loopback peers are accepted.", { secret: true }),
  d("slo-otlp", "SLO_OTLP_MAX_BODY", "size", "4MiB", "Largest OTLP request body, after gzip decompression; larger requests get 413.", { min: 1024, max: 64 * MIB }),
  d("slo-otlp", "SLO_OTLP_SLOT", "duration", "10s", "Width of one time slot of the RED windows: the granularity of every window.", { min: 1000, max: 10 * M }),
  d("slo-otlp", "SLO_OTLP_WINDOW", "duration", "1h", "The longest RED window kept (memory per service: window / slot histograms of about 1 KiB).", { min: 10_000, max: 6 * H, notTimer: true }),
  d("slo-otlp", "SLO_OTLP_MAX_SERVICES", "int", "16", "Services with RED windows at once; past this the least recently seen is evicted (counted).", { min: 1, max: 1000 }),
  // --- slo (SLO actions: rollback of bad rollouts, bounded scaling; src/slo/, docs/slo.md) ---
  d("slo", "SLO_MODE", "enum", "dry-run", "SLO actions: off, dry-run (decisions announced, no write) or on (rollback and scaling written).", { values: ["off", "dry-run", "on"] }),
  d("slo", "SLO_INTERVAL", "duration", "15s", "How often the leader evaluates rollouts and SLO policies.", { min: 100, max: 10 * M }),
  d("slo", "SLO_ROLLOUT_WATCH", "duration", "10m", "How long after a Deployment's new revision starts its failing Pods trigger a rollback.", { min: 1000, max: D }),
  d("slo", "SLO_READINESS_GRACE", "duration", "2m", "A new revision's Pod still not ready this long after creation counts as failing readiness.", { min: 0, max: H }),
  d("slo", "SLO_COOLDOWN", "duration", "10m", "Least time between two SLO actions on the same workload.", { min: 0, max: D }),
  d("slo", "SLO_MAX_ACTIONS_PER_HOUR", "int", "6", "SLO actions (rollbacks and scale steps, dry-run included) allowed per hour across the cluster; more are refused.", { min: 1, max: 1000 }),
  d("slo", "SLO_POLICY_CONFIGMAP", "string", "neurocontroller-slo-policies", "ConfigMap (in LEADER_LEASE_NAMESPACE) whose YAML values hold SLO policies; empty: annotations only.", { maxLength: 253 }),
  // --- changes (i15: change tracking, likely trigger, audit webhook, audit.log; docs/changes.md, docs/audit.md) ---
  d("changes", "CHANGES_ENABLE", "bool", "true", "Track changes to workloads, ConfigMaps, Secrets (name and hash only), Nodes and HPAs, and name an incident's likely trigger."),
  d("changes", "CHANGES_SECRETS", "bool", "true", "Track Secret changes (name and a digest of the data; values are hashed on arrival and never kept). false: Secrets are not watched at all."),
  d("changes", "CHANGES_RETENTION", "duration", "24h", "Recorded changes older than this are pruned from state.db.", { min: 60_000, max: 7 * D }),
  d("changes", "CHANGES_LOOKBACK", "duration", "30m", "How far before an incident started a change may be to be named its likely trigger.", { min: 1000, max: D }),
  d("changes", "CHANGES_MAX_ROWS", "int", "20000", "Upper bound on recorded changes kept in state.db (the oldest go first).", { min: 100, max: 1_000_000 }),
  d("changes", "AUDIT_WEBHOOK_TOKEN", "string", "", "Bearer token the kube-apiserver audit webhook must send to POST /audit/webhook (empty: only client certificates on AUDIT_WEBHOOK_ADDR are accepted).", { secret: true, maxLength: 4096 }),
  d("changes", "AUDIT_WEBHOOK_ADDR", "string", "", "Separate HTTPS listener (host:port) for POST /audit/webhook that requires a client certificate signed by AUDIT_WEBHOOK_CLIENT_CA_FILE (empty: off).", { pattern: /^$|^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, patternDoc: "host:port (an empty host listens on every address), or empty" }),
  d("changes", "AUDIT_WEBHOOK_CERT_FILE", "string", "", "PEM server certificate of the AUDIT_WEBHOOK_ADDR listener."),
  d("changes", "AUDIT_WEBHOOK_KEY_FILE", "string", "", "PEM private key of the AUDIT_WEBHOOK_ADDR listener."),
  d("changes", "AUDIT_WEBHOOK_CLIENT_CA_FILE", "string", "", "PEM CA whose client certificates may post audit batches on AUDIT_WEBHOOK_ADDR."),
  d("changes", "AUDIT_WEBHOOK_MAX_BODY", "size", "4MiB", "Largest audit batch accepted (413 beyond).", { min: 1024, max: 64 * MIB }),
  d("changes", "AUDIT_LOG_MAX_SIZE", "size", "10MiB", "audit.log (the tamper-evident action log in NEURO_LOG_DIR) is rotated past this size; the hash chain continues in the new file.", { min: 1024, max: GIB }),
  d("changes", "AUDIT_LOG_MAX_FILES", "int", "10", "Rotated audit.log files kept (audit.log.1 … .N).", { min: 1, max: 1000 }),
];

type Declared = (typeof SCHEMA)[number];
/** Every configuration key: a misspelled key is a compile error wherever config is read. */
export type ConfigKey = Declared["key"];
type KeysOf<T extends KeyType> = Extract<Declared, { type: T }>["key"];
/** Keys read with `Config.ms` (milliseconds). */
export type DurationKey = KeysOf<"duration">;
/** Keys read with `Config.num` (sizes in bytes). */
export type NumberKey = KeysOf<"int" | "float" | "ratio" | "size">;
export type BoolKey = KeysOf<"bool">;
export type ListKey = KeysOf<"list">;
/** Keys read with `Config.str`: text, URLs, enums, file paths, host:port. */
export type StringKey = KeysOf<"string" | "url" | "enum" | "file" | "hostport">;

export const SCHEMA_BY_KEY: ReadonlyMap<string, KeyDecl> = new Map(SCHEMA.map((k) => [k.key, k]));
