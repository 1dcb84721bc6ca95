import type { Command } from "commander";
import { ROTATION_OVERLAP_MS } from "../../runtime/callbacks/callback-secrets.js";
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
    .command("callback-secret <orgId>")
    .description("show the secret that signs the org's callbacks (Standard Webhooks); --rotate makes a new one")
    .option("--rotate", "make a new secret; the current one keeps signing for 24 h")
    .action(async (orgId: string, options: { rotate?: boolean }) => {
      const secrets = cli.callbackSecrets;
      const shown = await (options.rotate ? secrets.rotate(orgId) : secrets.show(orgId));
      cli.output.result({ orgId, ...shown }, (s) =>
        s.previous ? `${s.secret}\n(the previous secret also signs until ${new Date(s.rotatedAt!.getTime() + ROTATION_OVERLAP_MS).toISOString()})` : s.secret,
      );
    });

  org
    .command("list")
    .description("list orgs")
    .action(async () => {
      cli.output.result(await cli.tenancy.listOrgs(), (orgs) => table(orgs, ["id", "name", "plan", "createdAt"]));
    });
}
