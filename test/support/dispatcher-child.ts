// Run as a separate process by the outage tests: a controller-like process that submits
// notifications to a Slack webhook through the outbox and then waits to be killed (kill -9 mid-send).
import { Dispatcher } from "../../src/channels/dispatcher.ts";
import { SlackChannel } from "../../src/channels/slack.ts";
import { Outbox } from "../../src/store/outbox.ts";
import { StateStore } from "../../src/store/state-store.ts";
import { alertGroup, notification } from "./alert-fixtures.ts";

const [stateDir, webhookUrl, count] = process.argv.slice(2);
const store = StateStore.open(stateDir!);
const dispatcher = new Dispatcher({
  outbox: new Outbox(store.db),
  channels: [new SlackChannel({ webhookUrl: webhookUrl! })],
  minBackoffMs: 20,
  maxBackoffMs: 200,
}).start();
for (let i = 0; i < Number(count); i++) dispatcher.submit(notification("slack", `kill-${i}`, alertGroup(1, { title: `kill test ${i}` })));
console.log("submitted");
setInterval(() => {}, 1 << 30);
