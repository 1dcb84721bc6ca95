import type { SandboxType } from "../generated/prisma/client.js";
import type { TenancyService } from "../tenancy/tenancy.service.js";
import { CliError } from "./cli-error.js";
import { issuedCredentialText } from "./commands/credential-commands.js";
import { runCli } from "./run-cli.js";

const DEMO_ORG = "DEMO@AdobeOrg";
const DEMO_SANDBOXES: readonly { name: string; type: SandboxType }[] = [
  { name: "prod", type: "production" },
  { name: "dev", type: "development" },
];

/** Reuses what an earlier run created; a sandbox of the wrong type would make the printed call fail, so it is an error. */
async function ensureSandbox(tenancy: TenancyService, name: string, type: SandboxType) {
  const existing = await tenancy.findSandbox(DEMO_ORG, name);
  if (existing && existing.type !== type) {
    throw new CliError(`sandbox ${name} of org ${DEMO_ORG} exists as ${existing.type}, expected ${type}`);
  }
  return existing ?? (await tenancy.createSandbox(DEMO_ORG, name, type));
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

process.exitCode = await runCli("dev-seed", (program, cli) => {
  program
    .description(`Demo setup: org ${DEMO_ORG} with prod/dev sandboxes (reused if present) and a new credential`)
    .action(async () => {
      const { tenancy } = cli;
      if (!(await tenancy.findOrg(DEMO_ORG))) await tenancy.createOrg(DEMO_ORG, "Demo org", "M");
      const sandboxes = [];
      for (const { name, type } of DEMO_SANDBOXES) sandboxes.push(await ensureSandbox(tenancy, name, type));
      const credential = await tenancy.createCredential(DEMO_ORG, "dev-seed");

      const request = {
        method: "POST",
        url: `http://localhost:${cli.env.PORT}/authoring/list/throttlingConfigs`,
        headers: {
          Authorization: `Bearer ${credential.token}`,
          "x-api-key": credential.clientId,
          "x-gw-ims-org-id": DEMO_ORG,
          "x-sandbox-name": "prod",
        },
      };
      const curl = [
        `curl -X ${request.method} ${shellQuote(request.url)}`,
        ...Object.entries(request.headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`),
      ].join(" \\\n  ");

      cli.output.result({ orgId: DEMO_ORG, sandboxes, credential, request, curl }, (seed) =>
        [
          `org ${seed.orgId}, sandboxes: ${seed.sandboxes.map((s) => `${s.name} (${s.type})`).join(", ")}`,
          issuedCredentialText(seed.credential),
          "",
          "List the org's throttling configs:",
          seed.curl,
        ].join("\n"),
      );
    });
});
