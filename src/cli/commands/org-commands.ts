import type { Command } from "commander";
import { PLANS } from "../../tenancy/tenancy.service.js";
import { failOnConflict, oneOf } from "../cli-error.js";
import { table } from "../output.js";
import type { CliContext } from "../run-cli.js";

export function defineOrgCommands(program: Command, cli: CliContext): void {
  const org = program.command("org").description("manage orgs (IMS org ids)");

  org
    .command("create <orgId>")
    .description("register an org")
    .option("--name <name>", "display name (default: the org id)")
    .option("--plan <plan>", `API rate-limit plan: ${PLANS.join("|")}`, oneOf("plan", PLANS), "S")
    .action(async (orgId: string, options: { name?: string; plan: (typeof PLANS)[number] }) => {
      const created = await failOnConflict(cli.tenancy.createOrg(orgId, options.name, options.plan), `org ${orgId} already exists`);
      cli.output.result(created, (o) => `created org ${o.id} (name "${o.name}", plan ${o.plan})`);
    });

  org
    .command("list")
    .description("list orgs")
    .action(async () => {
      cli.output.result(await cli.tenancy.listOrgs(), (orgs) => table(orgs, ["id", "name", "plan", "createdAt"]));
    });
}
