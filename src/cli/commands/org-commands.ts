import type { Command } from "commander";
import { ROTATION_OVERLAP_MS } from "../../runtime/callbacks/callback-secrets.js";
import { ceilingOf, LIMIT_CLASSES, type LimitClass } from "../../tenancy/api-limits.js";
import { PLANS } from "../../tenancy/tenancy.service.js";
import { CliError, failOnConflict, futureTime, oneOf, wholeNumber } from "../cli-error.js";
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
    .command("show <orgId>")
    .description("show an org's plan, its API limits per minute now and the raises in force")
    .action(async (orgId: string) => {
      const shown = await cli.tenancy.showOrg(orgId);
      if (!shown) throw new CliError(`org ${orgId} does not exist`);
      const terms = { plan: shown.plan, raises: shown.limitRaises };
      const perMinute = Object.fromEntries(LIMIT_CLASSES.map((limitClass) => [limitClass, ceilingOf(terms, limitClass)]));
      cli.output.result({ ...shown, perMinute }, (o) =>
        [
          `org ${o.id} (name "${o.name}", plan ${o.plan})`,
          `requests per minute: ${LIMIT_CLASSES.map((c) => `${c} ${o.perMinute[c]}`).join(", ")}`,
          ...o.limitRaises.map((r) => `raised: ${r.limitClass} ${r.perMinute} per minute until ${r.until.toISOString()}`),
        ].join("\n"),
      );
    });

  org
    .command("set-plan <orgId> <plan>")
    .description(`change an org's plan (${PLANS.join("|")}), which scales its API limits; every API process applies it within 1 s`)
    .action(async (orgId: string, plan: string) => {
      const chosen = oneOf("plan", PLANS)(plan);
      if (!(await cli.tenancy.setPlan(orgId, chosen))) throw new CliError(`org ${orgId} does not exist`);
      cli.output.result({ orgId, plan: chosen }, () => `org ${orgId} is on plan ${chosen}`);
    });

  org
    .command("raise-limit <orgId>")
    .description("set an org's API limit of one class until a time (a backfill); the plan's applies again after it")
    .requiredOption("--class <class>", `endpoint class: ${LIMIT_CLASSES.join("|")}`, oneOf("class", LIMIT_CLASSES))
    .requiredOption("--per-minute <n>", "requests per sliding minute", wholeNumber("--per-minute", 1))
    .requiredOption("--until <time>", "when the raise lapses (ISO 8601, e.g. 2026-12-31T18:00:00Z)", futureTime("--until"))
    .action(async (orgId: string, options: { class: LimitClass; perMinute: number; until: Date }) => {
      if (!(await cli.tenancy.raiseLimit(orgId, options.class, options.perMinute, options.until))) {
        throw new CliError(`org ${orgId} does not exist`);
      }
      const raise = { orgId, limitClass: options.class, perMinute: options.perMinute, until: options.until };
      cli.output.result(raise, (r) => `org ${r.orgId}: ${r.limitClass} ${r.perMinute} requests per minute until ${r.until.toISOString()}`);
    });

  org
    .command("list")
    .description("list orgs")
    .action(async () => {
      cli.output.result(await cli.tenancy.listOrgs(), (orgs) => table(orgs, ["id", "name", "plan", "createdAt"]));
    });
}
