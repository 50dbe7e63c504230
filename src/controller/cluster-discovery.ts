// Start-up discovery: is the server Kubernetes, and which resource serves each watched kind.
// It fails while the API server is away, or while something that is not Kubernetes answers at its
// address: keep trying rather than exiting, and say why (for /readyz) until it succeeds.
import { abortableSleep } from "../kube/abortable-sleep.ts";
import type { KubeClient } from "../kube/client.ts";
import { chooseResource, verifyKubernetes } from "../kube/discovery.ts";
import type { ApiOutageLog } from "../kube/outage.ts";
import { NotKubernetesError } from "../kube/schemas.ts";
import type { ResourceRef } from "../kube/types.ts";
import type { Logger } from "../log.ts";
import type { WatcherPlugin } from "../watchers/types.ts";

export class ClusterDiscovery {
  /** Why discovery has not finished (unreachable, or a server that is not Kubernetes). */
  problem?: string;

  /** `signal` aborts when the controller stops: discovery then gives up at once. */
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly outage: ApiOutageLog,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Calls onServed with the resource serving each plugin's kind, in order (a kind not served is
   * logged and left out). False when the controller stopped first.
   */
  async discover(plugins: readonly WatcherPlugin[], onServed: (ref: ResourceRef) => void): Promise<boolean> {
    await this.withRetry("checking the API server", () => verifyKubernetes(this.client));
    for (const plugin of plugins) {
      if (this.signal.aborted) return false;
      const ref = await this.withRetry("discovery", () => chooseResource(this.client, plugin.resources));
      if (this.signal.aborted) return false;
      if (!ref) {
        this.logger.warn("kind not served by this API server; its rules are off", { kind: plugin.kind });
        continue;
      }
      onServed(ref);
    }
    this.problem = undefined;
    return true;
  }

  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.signal.aborted) return null;
        const waitMs = Math.min(30_000, 500 * 2 ** attempt);
        this.problem = `${what} failed: ${(e as Error)?.message ?? e}`;
        if (e instanceof NotKubernetesError) this.logger.error(`${what} failed; retrying`, { error: String(e), retryInMs: waitMs });
        else if (!this.outage.failed("discovery", e)) this.logger.warn(`${what} failed; retrying`, { error: String(e), retryInMs: waitMs });
        await abortableSleep(waitMs, this.signal);
        if (this.signal.aborted) return null;
      }
    }
  }
}
