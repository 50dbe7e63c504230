// Outage tests against real receivers: every alert delivered exactly once after recovery
// (counted at the receivers), per-channel independence, restarts and a kill -9 mid-send.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dispatcher, type DispatcherHooks } from "../../src/channels/dispatcher.ts";
import { EmailChannel } from "../../src/channels/email.ts";
import { mqttTopics } from "../../src/channels/mqtt-topics.ts";
import { MqttChannel } from "../../src/channels/mqtt.ts";
import { SlackChannel } from "../../src/channels/slack.ts";
import type { Channel, ChannelName } from "../../src/channels/types.ts";
import { Outbox } from "../../src/store/outbox.ts";
import { StateStore } from "../../src/store/state-store.ts";
import { alertGroup, notification } from "../support/alert-fixtures.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "../support/mqtt-subscriber.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { TestSmtp } from "../../testkit/smtp.ts";
import { waitFor } from "../../testkit/wait.ts";

let broker: TestMosquitto;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => (broker = await TestMosquitto.start()));
afterAll(async () => broker.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function stateDir(): string {
  dir = mkdtempSync(join(tmpdir(), "neuro-dispatch-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Counters {
  sent: Record<string, number>;
  retries: { channel: ChannelName; delayMs: number; error: string }[];
  failed: string[];
}

function open(channels: Channel[], opts: { sendTimeoutMs?: number } = {}) {
  const store = StateStore.open(dir);
  const outbox = new Outbox(store.db);
  const counters: Counters = { sent: {}, retries: [], failed: [] };
  const hooks: DispatcherHooks = {
    sent: (ch) => void (counters.sent[ch] = (counters.sent[ch] ?? 0) + 1),
    retry: (ch, _n, e, delayMs) => void counters.retries.push({ channel: ch, delayMs, error: e.message }),
    failed: (_ch, n) => void counters.failed.push(n.id),
  };
  const dispatcher = new Dispatcher({
    outbox,
    channels,
    minBackoffMs: 20,
    maxBackoffMs: 200,
    sendTimeoutMs: opts.sendTimeoutMs ?? 10_000,
    hooks,
  }).start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await dispatcher.close();
    store.close();
  };
  cleanups.push(close);
  return { dispatcher, outbox, counters, close };
}

const titled = (channel: ChannelName, id: string, extra = {}) => notification(channel, id, alertGroup(1, { title: id, ...extra }));

/** Each expected title exactly once, nothing else. */
function expectExactlyOnce(seen: string[], expected: string[]): void {
  expect([...seen].sort()).toEqual([...expected].sort());
}

function smtpChannel(s: TestSmtp): EmailChannel {
  return new EmailChannel({
    host: "127.0.0.1",
    port: s.port,
    security: "none",
    username: s.username,
    password: s.password,
    from: "neuro@example.org",
    to: ["a@example.org", "b@example.org"],
    timeoutMs: 5000,
  });
}

describe("Dispatcher outages", () => {
  test("SMTP down, then up: every mail delivered exactly once", async () => {
    stateDir();
    const smtp = await TestSmtp.start();
    cleanups.push(() => smtp.stop());
    await smtp.stop();
    const { dispatcher, outbox, counters } = open([smtpChannel(smtp)]);
    const ids = ["mail-a", "mail-b", "mail-c"];
    for (const id of ids) dispatcher.submit(titled("email", id));
    await waitFor(() => counters.retries.length >= 3, { message: "retries while SMTP is down" });
    await smtp.resume();
    await waitFor(() => smtp.received.length === 3 && outbox.pending().length === 0, { message: () => `3 mails (have ${smtp.received.length})` });
    expectExactlyOnce(
      smtp.subjects(),
      ids.map((id) => `[CRITICAL][pi-lab] 1 alert: ${id}`),
    );
    expect(smtp.received.every((r) => r.envelopeTo.length === 2)).toBe(true);
    expect(
      outbox
        .log()
        .map((e) => e.id)
        .sort(),
    ).toEqual(ids);
  });

  test("Slack 500, then 429 with Retry-After, then 200: delivered once, in order, Retry-After honoured", async () => {
    stateDir();
    const rx = SlackReceiver.start();
    cleanups.push(() => rx.stop());
    rx.answer({ status: 500 }, { status: 429, retryAfter: "1" });
    const { dispatcher, counters } = open([new SlackChannel({ webhookUrl: rx.url })]);
    const ids = ["slack-1", "slack-2", "slack-3"];
    for (const id of ids) dispatcher.submit(titled("slack", id));
    await waitFor(() => rx.delivered().length === 3, { message: () => `3 Slack posts (have ${JSON.stringify(rx.posts.map((p) => p.answered))})` });
    expect(rx.posts.map((p) => p.answered)).toEqual([500, 429, 200, 200, 200]);
    expect(rx.delivered().map((p) => p.body.text.split(" ")[2])).toEqual(ids);
    expect(counters.retries.map((r) => r.channel)).toEqual(["slack", "slack"]);
    expect(counters.retries[1]!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(counters.sent.slack).toBe(3);
  });

  test("a permanent Slack error dead-letters that notification (kept, counted) and the queue moves on", async () => {
    stateDir();
    const rx = SlackReceiver.start();
    cleanups.push(() => rx.stop());
    rx.answer({ status: 400, body: "invalid_blocks" });
    const { dispatcher, outbox, counters } = open([new SlackChannel({ webhookUrl: rx.url })]);
    dispatcher.submit(titled("slack", "bad-1"));
    dispatcher.submit(titled("slack", "ok-2"));
    await waitFor(() => rx.delivered().length === 1);
    expect(counters.failed).toEqual(["bad-1"]);
    expect(outbox.deadLetters()).toMatchObject([{ id: "bad-1", deadReason: "slack webhook answered HTTP 400 (invalid_blocks)" }]);
    expect(outbox.counts().slack).toEqual({ pending: 0, dead: 1 });
  });

  test("broker stopped, then restarted: every MQTT alert delivered exactly once", async () => {
    stateDir();
    const prefix = `neurocontroller/outage-${process.pid}`;
    const t = mqttTopics(prefix);
    const sub = await TestSubscriber.connect(broker, [t.alerts], { clientId: `outage-sub-${process.pid}`, persistent: true });
    cleanups.push(() => sub.close());
    const ch = new MqttChannel({
      url: broker.url,
      username: broker.username,
      password: broker.password,
      prefix,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
    await ch.connection.waitConnected();
    const { dispatcher, counters } = open([ch]);
    dispatcher.submit(titled("mqtt", "before-outage"));
    await waitFor(() => sub.on(t.alerts).length === 1);
    await broker.stop();
    const ids = ["during-1", "during-2", "during-3", "during-4"];
    for (const id of ids) dispatcher.submit(titled("mqtt", id));
    await waitFor(() => counters.retries.length >= 3, { message: "retries while the broker is down" });
    await broker.resume();
    await waitFor(() => sub.on(t.alerts).length === 5, { timeoutMs: 20_000, message: () => `5 alerts (have ${sub.on(t.alerts).length})` });
    expectExactlyOnce(
      sub.on(t.alerts).map((m) => JSON.parse(m.payload).title),
      ["before-outage", ...ids],
    );
    expect(counters.sent.mqtt).toBe(5);
  });

  test("a slow SMTP server does not delay MQTT", async () => {
    stateDir();
    const smtp = await TestSmtp.start();
    cleanups.push(() => smtp.stop());
    smtp.stall();
    const prefix = `neurocontroller/slow-${process.pid}`;
    const t = mqttTopics(prefix);
    const sub = await TestSubscriber.connect(broker, [t.alerts]);
    cleanups.push(() => sub.close());
    const ch = new MqttChannel({ url: broker.url, username: broker.username, password: broker.password, prefix });
    await ch.connection.waitConnected();
    const { dispatcher } = open([smtpChannel(smtp), ch]);
    dispatcher.submit(titled("email", "slow-mail"));
    await waitFor(() => smtp.dataStarted === 1, { message: "SMTP DATA in progress" });
    for (let i = 0; i < 5; i++) dispatcher.submit(titled("mqtt", `fast-${i}`));
    await waitFor(() => sub.on(t.alerts).length === 5, { message: "MQTT alerts while SMTP stalls" });
    expect(smtp.received).toHaveLength(0); // the mail is still held by the stalled server
    smtp.release();
    await waitFor(() => smtp.received.length === 1);
  });
});

describe("Dispatcher restarts", () => {
  test("closed mid-send (no ack) and reopened from the same database: delivered exactly once", async () => {
    stateDir();
    const smtp = await TestSmtp.start();
    cleanups.push(() => smtp.stop());
    smtp.stall();
    const first = open([smtpChannel(smtp)]);
    first.dispatcher.submit(titled("email", "restart-1"));
    first.dispatcher.submit(titled("email", "restart-2"));
    await waitFor(() => smtp.dataStarted === 1, { message: "first mail in flight" });
    await first.close(); // aborts the in-flight send; nothing acknowledged
    smtp.release({ code: 421, message: "shutting down" }); // the held DATA is never accepted
    const second = open([smtpChannel(smtp)]);
    await waitFor(() => smtp.received.length === 2 && second.outbox.pending().length === 0, {
      message: () => `2 mails (have ${smtp.received.length})`,
    });
    expectExactlyOnce(smtp.subjects(), ["[CRITICAL][pi-lab] 1 alert: restart-1", "[CRITICAL][pi-lab] 1 alert: restart-2"]);
    // The pipeline re-submitting after the restart is a no-op: already delivered.
    expect(second.dispatcher.submit(titled("email", "restart-1"))).toBe(false);
  });

  test("a clean stop while a send is in flight waits for its acknowledgement: the next process does not send it again", async () => {
    stateDir();
    const smtp = await TestSmtp.start();
    cleanups.push(() => smtp.stop());
    smtp.stall();
    const first = open([smtpChannel(smtp)]);
    first.dispatcher.submit(titled("email", "graceful-1"));
    await waitFor(() => smtp.dataStarted === 1, { message: "the mail in flight" });
    const closing = first.close(); // the send is in flight; close() gives it its grace
    smtp.release(); // the server accepts the held DATA
    await closing; // (closes first's database too)
    const second = open([smtpChannel(smtp)]);
    expect(second.outbox.pending()).toEqual([]);
    expect(second.dispatcher.submit(titled("email", "graceful-1"))).toBe(false); // already delivered
    expectExactlyOnce(smtp.subjects(), ["[CRITICAL][pi-lab] 1 alert: graceful-1"]);
  });

  test("process killed (SIGKILL) mid-send: the next process delivers every alert exactly once", async () => {
    const stateDirPath = stateDir();
    const rx = SlackReceiver.start();
    cleanups.push(() => rx.stop());
    rx.stall();
    const child = Bun.spawn(["bun", join(import.meta.dir, "..", "support", "dispatcher-child.ts"), stateDirPath, rx.url, "3"], {
      stdout: "pipe",
      stderr: "inherit",
    });
    cleanups.push(() => void child.kill("SIGKILL"));
    await waitFor(() => rx.posts.length === 0 && (rx as unknown as { stalled: unknown[] }).stalled.length === 1, {
      timeoutMs: 15_000,
      message: "a Slack post in flight",
    });
    child.kill("SIGKILL");
    await child.exited;
    rx.release(); // the held request is answered 503: Slack never showed it
    const { counters } = open([new SlackChannel({ webhookUrl: rx.url })]);
    await waitFor(() => rx.delivered().length === 3, { message: () => `3 Slack posts (have ${rx.delivered().length})` });
    expectExactlyOnce(
      rx.delivered().map((p) => p.body.text.split(" — ")[0]),
      ["FIRING [strict] kill test 0", "FIRING [strict] kill test 1", "FIRING [strict] kill test 2"],
    );
    expect(counters.sent.slack).toBe(3);
  });

  test("notifications for channels that are not configured are not stored", () => {
    stateDir();
    const { dispatcher, outbox } = open([]);
    expect(dispatcher.submit(titled("slack", "nowhere"))).toBe(false);
    expect(outbox.pending()).toEqual([]);
  });
});
