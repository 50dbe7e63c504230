// The status page's access rules against the real controller process (`demo`): a network-reachable
// NEURO_HTTP_ADDR without WEB_TOKEN refuses the page with a clear message while the probes stay open;
// with WEB_TOKEN a wrong token gets 401, the right one (bearer or the ?token= cookie login) gets the page;
// nothing can change state; planted secret configuration values never appear in the page, API or stream.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { command, FLAVORS } from "../support/controller.ts";
import { DemoProcess } from "../support/demo-process.ts";
import { waitFor } from "../../testkit/wait.ts";

const PLANTED = {
  MAIL_PASSWORD: "planted-mail-pw-7f3a91",
  SLACK_WEBHOOK_URL: "https://hooks.slack.example/services/planted-slack-5d2c",
  MQTT_COMMAND_KEY: "planted-command-key-0123456789abcdef",
  TRACE_APM_SECRET_TOKEN: "planted-apm-token-8e1b",
};
const TOKEN = "web-token-for-tests-4b9d2e7c1a";

const running: DemoProcess[] = [];
afterAll(async () => {
  for (const d of running) await d.stop();
});

async function readSome(res: Response, until: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!until(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += dec.decode(value);
  }
  await reader.cancel();
  return text;
}

describe.each(FLAVORS)("status page access (%s)", (flavor) => {
  test("a LAN address without WEB_TOKEN: page and API refused with a clear message, probes open", async () => {
    const d = await DemoProcess.start(flavor, { ...PLANTED, ENABLE_SLACK_ALERT: "false" }, "0.0.0.0");
    running.push(d);
    const expected = `status page refused: NEURO_HTTP_ADDR=0.0.0.0:${d.port} is reachable from the network and WEB_TOKEN is not set`;
    await waitFor(() => (d.err + d.out).includes(expected), {
      timeoutMs: 10_000,
      message: () => `the refusal at start-up in: ${d.err.slice(-1500)}`,
    });
    for (const path of ["/", "/api/v1/status", "/api/v1/events"]) {
      const res = await fetch(`${d.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 503 });
      expect(await res.text()).toContain(expected);
    }
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${d.url}/readyz`)).status);
    await d.stop();
  }, 60_000);

  test("with WEB_TOKEN: 401 without or with a wrong token, the page with the right one; read-only; no secret shown", async () => {
    const d = await DemoProcess.start(flavor, { ...PLANTED, WEB_TOKEN: TOKEN, ENABLE_SLACK_ALERT: "false", NEURO_DEMO_STORY_SPEED: "4" }, "0.0.0.0");
    running.push(d);
    for (const path of ["/", "/api/v1/status", "/api/v1/incidents", "/api/v1/events"]) {
      expect({ path, status: (await fetch(`${d.url}${path}`)).status }).toEqual({ path, status: 401 });
      const wrong = await fetch(`${d.url}${path}`, { headers: { authorization: "Bearer web-token-for-tests-4b9d2e7c1b" } });
      expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
    }
    expect((await fetch(`${d.url}/?token=nope`, { redirect: "manual" })).status).toBe(401);
    // Nothing changes state: every other method is refused, with or without the token.
    for (const method of ["POST", "PUT", "DELETE", "PATCH"])
      for (const path of ["/", "/api/v1/status", "/api/v1/silences"]) {
        const res = await fetch(`${d.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}` },
          body: method === "DELETE" ? undefined : "{}",
        });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 405 });
      }
    const auth = { authorization: `Bearer ${TOKEN}` };
    const status = await fetch(`${d.url}/api/v1/status`, { headers: auth });
    expect(status.status).toBe(200);
    const view = await status.json();
    expect(view.clusterId).toBe("default");
    // The browser login: the token once in the URL, then an HttpOnly cookie that is not the token.
    const login = await fetch(`${d.url}/?token=${TOKEN}`, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/");
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toContain("HttpOnly");
    expect(cookie).not.toContain(TOKEN);
    const page = await fetch(`${d.url}/`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h2 id="h-incidents">');
    const events = await fetch(`${d.url}/api/v1/events`, { headers: auth });
    const stream = await readSome(events, (t) => t.includes("event: status"));
    const everything = [html, JSON.stringify(view), stream, await (await fetch(`${d.url}/api/v1/incidents`, { headers: auth })).text()].join("\n");
    for (const [key, value] of Object.entries({ ...PLANTED, WEB_TOKEN: TOKEN }))
      expect({ key, shown: everything.includes(value) }).toEqual({ key, shown: false });
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);

    // `neurocontroller status` prints the same view-model, read with the token; a wrong token is said.
    const statusCli = async (token: string) => {
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: d.dir,
        NEURO_HTTP_ADDR: `127.0.0.1:${d.port}`,
        WEB_TOKEN: token,
        NEURO_STATE_DIR: join(d.dir, "none"),
      };
      const p = Bun.spawn(command(flavor, ["status", "--json"]), { env, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { out, err, code };
    };
    const cli = await statusCli(TOKEN);
    const printed = JSON.parse(cli.out);
    expect(printed.view.clusterId).toBe("default");
    expect(printed.view.nodes.map((n: { name: string }) => n.name)).toEqual(view.nodes.map((n: { name: string }) => n.name));
    expect(cli.code).toBe(printed.view.incidents.length ? 3 : 0);
    const denied = await statusCli("wrong-token");
    expect(denied.err).toContain("/api/v1/status answered 401");
    await d.stop();
  }, 60_000);
});
