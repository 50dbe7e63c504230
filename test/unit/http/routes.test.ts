import { afterAll, describe, expect, test } from "bun:test";
import { Registry } from "../../../src/http/metrics.ts";
import { BodyTooLarge, bearerMatches, readBoundedBody } from "../../../src/http/routes.ts";
import { startHttpServer } from "../../../src/http/server.ts";

describe("feature routes on the HTTP server", () => {
  const server = startHttpServer({
    port: 0,
    registry: new Registry(),
    ready: () => ({ ok: true, reasons: [] }),
    routes: [
      {
        path: "/echo",
        async handle(req) {
          if (!bearerMatches(req, "s3cret-token")) return new Response("no\n", { status: 401 });
          try {
            return new Response(new TextDecoder().decode(await readBoundedBody(req, 16)));
          } catch (e) {
            if (e instanceof BodyTooLarge) return new Response("too large\n", { status: 413 });
            throw e;
          }
        },
      },
      {
        path: "/api/",
        handle() {
          throw new Error("handler bug");
        },
      },
    ],
  });
  afterAll(() => server.stop());

  test("a route gets POST bodies, checks its token and bounds the body", async () => {
    const auth = { authorization: "Bearer s3cret-token" };
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: "hello", headers: auth })).status).toBe(200);
    expect(await (await fetch(`${server.url}/echo`, { method: "POST", body: "hello", headers: auth })).text()).toBe("hello");
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: "hello", headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: "x".repeat(17), headers: auth })).status).toBe(413);
    // a chunked body without Content-Length is cut off at the limit too
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("0123456789"));
        c.close();
      },
    });
    expect((await fetch(`${server.url}/echo`, { method: "POST", body: stream, headers: auth })).status).toBe(413);
  });

  test("a throwing route answers 500 and the probes keep working", async () => {
    expect((await fetch(`${server.url}/api/v1/x`)).status).toBe(500);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
  });
});
