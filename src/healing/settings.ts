// The healing limits, read once from the configuration (docs/healing.md explains each one and why).
import type { Config } from "../config/load.ts";

export type HealingMode = "off" | "dry-run" | "on";

export interface HealingSettings {
  mode: HealingMode;
  intervalMs: number;
  notReadyAfterMs: number;
  drainTimeoutMs: number;
  /** 0 = never release (no out-of-service taint, no force delete). */
  forceAfterMs: number;
  uncordonAfterMs: number;
  drainUnmanaged: boolean;
  minHealthyPercent: number;
  controlPlane: boolean;
  maxConcurrent: number;
  cooldownMs: number;
}

export function healingSettings(config: Config): HealingSettings {
  return {
    mode: config.str("HEALING_MODE") as HealingMode,
    intervalMs: config.ms("HEALING_INTERVAL"),
    notReadyAfterMs: config.ms("HEALING_NODE_NOTREADY_AFTER"),
    drainTimeoutMs: config.ms("HEALING_DRAIN_TIMEOUT"),
    forceAfterMs: config.ms("HEALING_FORCE_AFTER"),
    uncordonAfterMs: config.ms("HEALING_UNCORDON_AFTER"),
    drainUnmanaged: config.bool("HEALING_DRAIN_UNMANAGED"),
    minHealthyPercent: config.num("HEALING_MIN_HEALTHY_PERCENT"),
    controlPlane: config.bool("HEALING_CONTROL_PLANE"),
    maxConcurrent: config.num("HEALING_MAX_CONCURRENT"),
    cooldownMs: config.ms("HEALING_COOLDOWN"),
  };
}
