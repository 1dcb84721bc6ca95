import type { Command } from "commander";
import { SANDBOX_TYPES } from "../../tenancy/tenancy.service.js";
import { failOnConflict, oneOf, requireOrg } from "../cli-error.js";
import { table } from "../output.js";
import type { CliContext } from "../run-cli.js";

export function defineSandboxCommands(program: Command, cli: CliContext): void {
  const sandbox = program.command("sandbox").description("manage an org's sandboxes");

  sandbox
    .command("create <orgId> <name>")
    .description("register a sandbox (the x-sandbox-name header value) for an org")
    .requiredOption("--type <type>", SANDBOX_TYPES.join("|"), oneOf("sandbox type", SANDBOX_TYPES))
    .action(async (orgId: string, name: string, options: { type: (typeof SANDBOX_TYPES)[number] }) => {
      await requireOrg(cli.tenancy, orgId);
      const created = await failOnConflict(
        cli.tenancy.createSandbox(orgId, name, options.type),
        `sandbox ${name} already exists in org ${orgId}`,
      );
      cli.output.result(created, (s) => `created ${s.type} sandbox ${s.name} in org ${s.orgId} (id ${s.id})`);
    });

  sandbox
    .command("list <orgId>")
    .description("list an org's sandboxes")
    .action(async (orgId: string) => {
      await requireOrg(cli.tenancy, orgId);
      const sandboxes = await cli.tenancy.listSandboxes(orgId);
      cli.output.result(sandboxes, (rows) => table(rows, ["name", "type", "id", "createdAt"]));
    });
}
