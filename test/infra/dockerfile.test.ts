import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { instructionArgs, parseDockerfile, type DockerStage } from "./dockerfile.js";

const root = resolve(import.meta.dirname, "../..");
const stages = parseDockerfile(resolve(root, "Dockerfile"));
const runtime = stages.at(-1)!;

const lastArgs = (stage: DockerStage, keyword: string) => instructionArgs(stage, keyword).at(-1);

describe("Dockerfile", () => {
  it("builds the default (last) stage, runtime, on Node 24", () => {
    expect(runtime.name).toBe("runtime");
    expect(runtime.from).toMatch(/^node:24[.-]/);
  });

  it("runs the runtime and migrate stages as a non-root user", () => {
    for (const name of ["runtime", "migrate"]) {
      const user = lastArgs(stages.find((stage) => stage.name === name)!, "USER");
      expect(user, name).toBeDefined();
      expect(user, name).not.toMatch(/^(root|0)(:|$)/);
    }
  });

  it("has a migrate stage that applies migrations with the Prisma CLI", () => {
    const migrate = stages.find((stage) => stage.name === "migrate")!;
    expect(JSON.parse(lastArgs(migrate, "CMD")!)).toEqual(["npx", "prisma", "migrate", "deploy"]);
  });

  it("never runs install scripts", () => {
    const installs = stages.flatMap((stage) => stage.instructions).filter((i) => /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toContain("--ignore-scripts");
  });
});
