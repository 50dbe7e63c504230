// Job rules: a Job whose Failed condition is True (backoff limit, deadline, pod failure policy).
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, WatcherPlugin } from "./types.ts";
import { anomalyFor, findCondition, parseTime, plural, ref } from "./util.ts";

const KIND = "Job";

export function evaluateJob(job: KubeObject, ctx: RuleContext): Anomaly[] {
  if (!ctx.settings.jobFailed) return [];
  const failed = findCondition(job, "Failed");
  const since = parseTime(failed?.lastTransitionTime);
  if (failed?.status !== "True" || since === undefined) return [];
  const failures: number = job.status?.failed ?? 0;
  const why =
    failed.reason === "BackoffLimitExceeded"
      ? `BackoffLimitExceeded: ${plural(failures, "failed Pod")}, backoffLimit ${job.spec?.backoffLimit ?? 6}`
      : failed.reason === "DeadlineExceeded"
        ? `DeadlineExceeded: ran longer than activeDeadlineSeconds ${job.spec?.activeDeadlineSeconds ?? "?"}`
        : `${failed.reason ?? "Failed"}`;
  const detail = failed.message ? ` (${failed.message})` : "";
  return [
    anomalyFor(job, KIND, {
      reason: "JobFailed",
      severity: "warning",
      category: "Condition",
      since,
      message: `Job failed — ${why}${detail}. Check the logs of its failed Pods (kubectl logs job/${job.metadata.name}).`,
    }),
  ];
}

export const jobPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("batch", "v1", "jobs", KIND)],
  evaluate: evaluateJob,
  reportsTimeDependence: true,
};
