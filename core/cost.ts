/**
 * What a run's SageMaker jobs cost: training from BillableTimeInSeconds, processing and
 * transform from their start and end times, × the dated per-instance-hour price table. Instance
 * count is 1 for every modeldrop job. Lambda, Step Functions and S3 charges are not counted
 * (they are cents per thousand runs); the report says so.
 */

import prices from "./prices.json" with { type: "json" };
import type { JobKind, RunCost } from "./run-record.js";

export interface JobUsage {
  step: string;
  kind: JobKind;
  instanceType: string;
  /** Billable seconds: training's own figure, else end minus start. */
  seconds: number;
}

export function runCost(usage: JobUsage[]): RunCost {
  const table: Record<JobKind, Record<string, number>> = prices.perHour;
  const steps = usage.map((job) => {
    const hourly = table[job.kind][job.instanceType];
    const usd = hourly === undefined ? null : roundUsd((hourly * job.seconds) / 3600);
    return { ...job, usd };
  });
  return {
    totalUsd: roundUsd(steps.reduce((sum, step) => sum + (step.usd ?? 0), 0)),
    steps,
    unpriced: [...new Set(steps.filter((s) => s.usd === null).map((s) => s.instanceType))],
    priceTable: { date: prices.date, region: prices.region },
  };
}

/** Whole seconds between two epoch-millisecond times, at least 1 (SageMaker bills a minimum). */
export function elapsedSeconds(startMs: number, endMs: number): number {
  return Math.max(1, Math.round((endMs - startMs) / 1000));
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
