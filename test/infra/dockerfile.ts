import { readFileSync } from "node:fs";

export interface DockerStage {
  name?: string;
  /** The base image with global `ARG` defaults substituted. */
  from: string;
  /** Instructions after FROM, e.g. `{ keyword: "USER", args: "node" }`. */
  instructions: { keyword: string; args: string }[];
}

/** Just enough of a Dockerfile parser for assertions: stages, their base images and instructions. */
export function parseDockerfile(path: string): DockerStage[] {
  const lines = readFileSync(path, "utf8")
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const globalArgs = new Map<string, string>();
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    const current = stages.at(-1);
    if (upper === "FROM") {
      const [image = "", , name] = args.split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? "");
      stages.push({ name, from, instructions: [] });
    } else if (!current && upper === "ARG") {
      const [arg = "", value = ""] = args.split("=");
      globalArgs.set(arg, value);
    } else if (current) {
      current.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** The arguments of every `keyword` instruction in `stage`, in order. */
export function instructionArgs(stage: DockerStage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

/** How the image starts Sluice: the runtime (last) stage's exec-form `CMD ["node", ...nodeArgs, entry]`. */
export function runtimeCommand(dockerfilePath: string): { nodeArgs: string[]; entry: string } {
  const runtime = parseDockerfile(dockerfilePath).at(-1)!;
  const [command, ...args] = JSON.parse(instructionArgs(runtime, "CMD").at(-1)!) as string[];
  if (command !== "node" || args.length === 0) throw new Error(`the runtime CMD does not run node: ${command}`);
  return { nodeArgs: args.slice(0, -1), entry: args.at(-1)! };
}
