// Packages the stack once per test run: `serverless package` must not run in two test files at
// once (serverless-esbuild builds in the project's shared .esbuild/ folder), and once is faster.
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { packageStack } from "./integration/pipeline-stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    packagedStack: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = packageStack();
  project.provide("packagedStack", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
