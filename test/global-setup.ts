// Packages the stack once per test run: `serverless package` must not run in two test files at
// once (serverless-esbuild builds in the project's shared .esbuild/ folder), and once is faster.
import type { TestProject } from "vitest/node";
import { packageStack } from "./integration/pipeline-stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    packagedStack: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide("packagedStack", packageStack());
}
