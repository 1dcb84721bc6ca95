import { defineCredentialCommands } from "./commands/credential-commands.js";
import { defineOrgCommands } from "./commands/org-commands.js";
import { defineSandboxCommands } from "./commands/sandbox-commands.js";
import { runCli } from "./run-cli.js";

process.exitCode = await runCli("sluice", (program, cli) => {
  program.description("Sluice operator commands: orgs, sandboxes and credentials");
  defineOrgCommands(program, cli);
  defineSandboxCommands(program, cli);
  defineCredentialCommands(program, cli);
});
