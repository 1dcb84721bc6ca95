import type { Request } from "express";
import { hashToken, tokenMatches } from "../tenancy/token.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
export const bearerToken = (req: Request): string | undefined => BEARER.exec(req.get("authorization") ?? "")?.[1];

/** Constant-time comparison of a given secret with the configured one (hashing makes both the same length). */
export const sameSecret = (given: string, expected: string): boolean => tokenMatches(given, hashToken(expected));
