import { lookup } from "node:dns/promises";
import { hostname } from "node:os";

/**
 * A host name, other than `localhost` (which the API refuses on sight), that resolves to a loopback address: the
 * machine's own name (in /etc/hosts on this machine and in CI). Only the connect-time check can catch it.
 */
export async function loopbackHostName(): Promise<string> {
  const name = hostname();
  const { address } = await lookup(name, { family: 4 });
  if (!address.startsWith("127.")) {
    throw new Error(`these tests need a host name that resolves to loopback; ${name} resolves to ${address}`);
  }
  return name;
}
