import type { Request, Response } from "express";
import type { Principal, SandboxRef } from "../tenancy/principal.js";

// What an authoring operation's handler reads of its request (after the authoring router's preamble).

export const caller = (res: Response): { principal: Principal; sandbox: SandboxRef } => ({
  principal: res.locals.principal!,
  sandbox: res.locals.sandbox!,
});

export const uidOf = (req: Request): string => String(req.params["uid"]);

/** `?forceDelete=true`, case-insensitively. */
export const forceDeleteOf = (req: Request): boolean => String(req.query["forceDelete"] ?? "").toLowerCase() === "true";

/** This service's own path to a resource, under the base path the request used (CONTRACT §3). */
export const resourcePath = (req: Request, collection: string, uid: string): string => `${req.baseUrl}/${collection}/${uid}`;
