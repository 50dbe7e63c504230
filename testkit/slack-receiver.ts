// A local stand-in for Slack's incoming-webhook endpoint (Bun.serve): records every POST and answers
// from a script (e.g. 500, then 429 with Retry-After, then 200), or holds requests (stall) to
// simulate a send in flight when the controller dies.
import type { Server } from "bun";

export interface ReceivedPost {
  path: string;
  body: any;
  answered: number;
}

export interface ScriptedAnswer {
  status: number;
  retryAfter?: string;
  body?: string;
}

export class SlackReceiver {
  readonly posts: ReceivedPost[] = [];
  private readonly script: ScriptedAnswer[] = [];
  private stalled: (() => void)[] = [];
  private stallOn = false;
  private server: Server<undefined> | undefined;
  readonly token = "T0000TEST/B0000TEST/XyZsecretWebhookToken42";

  static start(): SlackReceiver {
    const r = new SlackReceiver();
    r.server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => r.handle(req) });
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.server!.port}/services/${this.token}`;
  }

  /** Answers for the next requests, in order; afterwards 200 "ok". */
  answer(...answers: ScriptedAnswer[]): void {
    this.script.push(...answers);
  }

  stall(): void {
    this.stallOn = true;
  }

  /** Releases held requests; they are answered 503 (the process that sent them is gone anyway). */
  release(): void {
    this.stallOn = false;
    for (const r of this.stalled.splice(0)) r();
  }

  /** Posts answered 2xx: what Slack would have shown in the channel. */
  delivered(): ReceivedPost[] {
    return this.posts.filter((p) => p.answered >= 200 && p.answered < 300);
  }

  private async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const body = await req.json().catch(() => null);
    if (this.stallOn) {
      await new Promise<void>((r) => this.stalled.push(r));
      this.posts.push({ path, body, answered: 503 });
      return new Response("released", { status: 503 });
    }
    const next = this.script.shift() ?? { status: 200, body: "ok" };
    this.posts.push({ path, body, answered: next.status });
    const headers: Record<string, string> = { "content-type": "text/plain" };
    if (next.retryAfter !== undefined) headers["retry-after"] = next.retryAfter;
    return new Response(next.body ?? (next.status === 200 ? "ok" : "error"), { status: next.status, headers });
  }

  stop(): void {
    this.release();
    this.server?.stop(true);
  }
}
