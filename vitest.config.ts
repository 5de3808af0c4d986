import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Integration tests start the local cloud and run real jobs; the shared machines are slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
