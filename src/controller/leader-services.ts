// What runs on the leader only, one sender per cluster: the alert channels with their outbox
// dispatch, and the trace bridge that turns agent spans into slow-syscall anomalies. Switched on
// when this controller starts leading and off when it stops, one switch at a time and in order.
import type { Logger } from "../log.ts";
import { TraceBridge, type TraceBridgeOptions } from "../trace/bridge.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { AlertingRuntime } from "./alerting-runtime.ts";

/** A leader-only feature (healing, the actions publisher): switched on and off with the channels. */
export interface LeaderSwitch {
  set(on: boolean): Promise<void>;
}

export class LeaderServices {
  private chain: Promise<void> = Promise.resolve();
  private bridge?: TraceBridge;
  private readonly switches: LeaderSwitch[] = [];

  constructor(
    /** The trace bridge's settings, parsed once at start-up; undefined when tracing is off. */
    private readonly bridgeOptions: TraceBridgeOptions | undefined,
    private readonly logger: Logger,
    private readonly alerting: AlertingRuntime,
    /** Slow-syscall anomalies from the bridge. */
    private readonly onSpanAnomalies: (anomalies: Anomaly[]) => void,
    /** Refused span batches and caught handler exceptions are counted here. */
    private readonly hooks: Pick<TraceBridgeOptions, "rejects" | "onHandlerError" | "onBatch"> = {},
  ) {}

  /** Adds a feature switched on after the channels and off before them. */
  attach(s: LeaderSwitch): void {
    this.switches.push(s);
  }

  /** Queues a switch on or off after any switch still in progress; errors are logged, never thrown. */
  set(on: boolean): void {
    this.chain = this.chain.then(async () => {
      try {
        if (on) {
          await this.alerting.activate();
          if (this.bridgeOptions && !this.bridge)
            this.bridge = new TraceBridge({ ...this.bridgeOptions, ...this.hooks, onAnomalies: this.onSpanAnomalies });
          for (const s of this.switches) await s.set(true);
        } else {
          for (const s of this.switches) await s.set(false);
          await this.alerting.deactivate();
          await this.bridge?.close();
          this.bridge = undefined;
        }
      } catch (e) {
        this.logger.error(on ? "cannot start alert channels" : "error stopping alert channels", { error: String(e) });
      }
    });
  }

  /** Resolves when every switch queued so far has finished. */
  settled(): Promise<void> {
    return this.chain;
  }
}
