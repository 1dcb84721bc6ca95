import type { Command } from "commander";
import { CliError, requireOrg } from "../cli-error.js";
import { table } from "../output.js";
import type { CliContext } from "../run-cli.js";

export interface IssuedCredential {
  clientId: string;
  token: string;
  orgId: string;
  name: string;
}

export function issuedCredentialText(credential: IssuedCredential): string {
  return [
    `created credential "${credential.name}" for org ${credential.orgId}`,
    `clientId: ${credential.clientId}`,
    `token:    ${credential.token}`,
    "Store the token now: it is not shown again (only its hash is kept).",
  ].join("\n");
}

export function defineCredentialCommands(program: Command, cli: CliContext): void {
  const credential = program.command("credential").description("manage an org's API credentials");

  credential
    .command("create <orgId>")
    .description("issue a credential; its token is printed once")
    .requiredOption("--name <name>", "who uses it (recorded as createdBy/lastModifiedBy)")
    .action(async (orgId: string, options: { name: string }) => {
      await requireOrg(cli.tenancy, orgId);
      cli.output.result(await cli.tenancy.createCredential(orgId, options.name), issuedCredentialText);
    });

  credential
    .command("list <orgId>")
    .description("list an org's credentials (never their tokens)")
    .action(async (orgId: string) => {
      await requireOrg(cli.tenancy, orgId);
      const credentials = await cli.tenancy.listCredentials(orgId);
      cli.output.result(credentials, (rows) => table(rows, ["clientId", "name", "createdAt", "revokedAt"]));
    });

  credential
    .command("revoke <clientId>")
    .description("revoke a credential: every API process refuses its token within 1 s")
    .action(async (clientId: string) => {
      if (!(await cli.tenancy.revokeCredential(clientId))) throw new CliError(`credential ${clientId} does not exist`);
      cli.output.result({ clientId, revoked: true }, () => `revoked credential ${clientId}`);
    });
}
