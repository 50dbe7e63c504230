// GET /slo/status on the controller's HTTP server, for `neurocontroller slo status`: loopback only
// (it names workloads and their recent actions), JSON, read-only.
import { type HttpRoute, isLoopback } from "../http/routes.ts";
import type { SloService } from "./service.ts";

export const SLO_STATUS_PATH = "/slo/status";

export function sloStatusRoute(slo: SloService): HttpRoute {
  return {
    path: SLO_STATUS_PATH,
    async handle(req, info) {
      if (req.method !== "GET") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET" } });
      if (!isLoopback(info.remoteAddress)) return new Response("forbidden: loopback only\n", { status: 403 });
      return Response.json(await slo.status());
    },
  };
}
