import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderSlackMessage, SLACK_LIMITS, truncate } from "../../src/channels/slack-message.ts";
import { parseRetryAfter, SlackChannel } from "../../src/channels/slack.ts";
import { PermanentError, RetryableError } from "../../src/channels/types.ts";
import { alertGroup, alertItem, notification } from "../support/alert-fixtures.ts";
import { blockKitProblems, loadBlockKitLimits } from "../support/block-kit.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";

const limits = loadBlockKitLimits();
const long = (n: number, unit = "x") => unit.repeat(n);

describe("Slack Block Kit rendering", () => {
  test("the renderer's constants are the limits in the spec file", () => {
    expect(SLACK_LIMITS.maxBlocks).toBe(limits.surfaces.message.max_blocks);
    expect(SLACK_LIMITS.sectionText).toBe(limits.blocks.section.text_max_length);
    expect(SLACK_LIMITS.fieldsPerSection).toBe(limits.blocks.section.fields_max_items);
    expect(SLACK_LIMITS.fieldText).toBe(limits.blocks.section.field_text_max_length);
    expect(SLACK_LIMITS.headerText).toBe(limits.blocks.header.text_max_length);
  });

  for (const count of [1, 23, 24, 46, 47, 100, 1000]) {
    test(`${count} alerts fit every limit, and every alert is shown or counted`, () => {
      const msg = renderSlackMessage(alertGroup(count));
      expect(blockKitProblems(msg, limits)).toEqual([]);
      const alertSections = msg.blocks.filter((b) => b.type === "section" && b.text?.text.includes("web-7d9f-"));
      const overflow = msg.blocks.find((b) => b.text?.text.startsWith("…and "));
      const hidden = overflow ? Number(/…and (\d+) more/.exec(overflow.text!.text)![1]) : 0;
      expect(alertSections.length + hidden).toBe(count);
      if (count <= 46) expect(overflow).toBeUndefined();
      else expect(overflow!.text!.text).toContain("CrashLoopBackOff ×");
    });
  }

  test("very long titles, names, messages and lists are cut to the limits", () => {
    const alerts = Array.from({ length: 60 }, (_, i) =>
      alertItem(i, {
        name: long(5000, "n"),
        namespace: long(300, "s"),
        node: long(300, "d"),
        reason: long(500, "R"),
        message: long(100_000, "m"),
        kind: long(400, "K"),
      }),
    );
    const g = alertGroup(0, {
      title: long(10_000, "T"),
      alerts,
      alertCount: 60,
      clusterId: long(3000, "c"),
      incidentId: long(3000, "i"),
      fingerprint: long(3000, "f"),
      nodeList: Array.from({ length: 2000 }, (_, i) => `node-${i}-${long(30, "z")}`),
      namespaceList: Array.from({ length: 2000 }, (_, i) => `ns-${i}`),
    });
    const msg = renderSlackMessage(g);
    expect(blockKitProblems(msg, limits)).toEqual([]);
    expect(msg.blocks[0]!.text!.text.endsWith("…")).toBe(true);
    const nodes = msg.blocks[1]!.fields!.find((f) => f.text.startsWith("*Nodes (2000)*"))!;
    expect(nodes.text).toMatch(/and \d+ more$/);
  });

  test("alertCount larger than the alerts carried is summarised, not lost", () => {
    const msg = renderSlackMessage(alertGroup(3, { alertCount: 500 }));
    expect(blockKitProblems(msg, limits)).toEqual([]);
    expect(msg.blocks.some((b) => b.text?.text.startsWith("…and 497 more alerts"))).toBe(true);
  });

  test("mrkdwn control characters are escaped; emoji and surrogate pairs are never split", () => {
    const msg = renderSlackMessage(alertGroup(1, { alerts: [alertItem(0, { message: "<!channel> & <http://evil|click>" })] }));
    const text = msg.blocks.find((b) => b.text?.text.includes("evil"))!.text!.text;
    expect(text).toContain("&lt;!channel&gt; &amp; &lt;http://evil|click&gt;");
    expect(truncate("ab😀cd", 4)).toBe("ab…");
    expect(truncate("a&amp;b", 5)).toBe("a…");
  });

  test("resolved messages say so; a plain-text fallback is always present", () => {
    const msg = renderSlackMessage(alertGroup(2, { status: "resolved" }));
    expect(msg.text).toBe("RESOLVED [strict] web crash-looping (2) — 2 alerts in cluster pi-lab");
    expect(msg.blocks[0]!.text!.text).toStartWith("✅ RESOLVED");
  });
});

describe("SlackChannel against a local webhook endpoint", () => {
  let rx: SlackReceiver;
  beforeAll(() => (rx = SlackReceiver.start()));
  afterAll(() => rx.stop());

  test("POSTs a valid Block Kit message to the webhook path", async () => {
    const ch = new SlackChannel({ webhookUrl: rx.url });
    await ch.send(notification("slack", "s-1", alertGroup(30)));
    const post = rx.posts.at(-1)!;
    expect(post.path).toBe(`/services/${rx.token}`);
    expect(post.answered).toBe(200);
    expect(blockKitProblems(post.body, limits)).toEqual([]);
    expect(post.body.text).toContain("web crash-looping (30)");
  });

  test("429 → RetryableError with Retry-After; 5xx → retryable; other 4xx → permanent; never the URL", async () => {
    const ch = new SlackChannel({ webhookUrl: rx.url });
    rx.answer({ status: 429, retryAfter: "7" }, { status: 503 }, { status: 404, body: "no_service" });
    const errors: Error[] = [];
    for (let i = 0; i < 3; i++) await ch.send(notification("slack", `e-${i}`)).catch((e) => errors.push(e));
    expect(errors[0]).toBeInstanceOf(RetryableError);
    expect((errors[0] as RetryableError).retryAfterMs).toBe(7000);
    expect(errors[1]).toBeInstanceOf(RetryableError);
    expect(errors[2]).toBeInstanceOf(PermanentError);
    expect(errors[2]!.message).toContain("HTTP 404 (no_service)");
    for (const e of errors) expect(`${e.message} ${e.stack}`).not.toContain("secretWebhookToken");
  });

  test("an unreachable endpoint is retryable and the error does not leak the token", async () => {
    const gone = SlackReceiver.start();
    const url = gone.url;
    gone.stop();
    const err = await new SlackChannel({ webhookUrl: url }).send(notification("slack", "u-1")).catch((e) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.message).not.toContain("secretWebhookToken");
  });

  test("Retry-After accepts seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
