import { pooledRandomBytes } from "../../shared/random-pool.js";
import type { RequestHandler } from "express";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// A reused id ends up in logs and headers: accept only a conservative shape.
const ACCEPTABLE_INCOMING = /^[A-Za-z0-9._-]{1,128}$/;

/** 32 alphanumerics, like the seed's requestIds. */
export function newRequestId(): string {
  let id = "";
  for (const byte of pooledRandomBytes(32)) id += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return id;
}

export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get("x-request-id");
  const id = incoming && ACCEPTABLE_INCOMING.test(incoming) ? incoming : newRequestId();
  res.locals.requestId = id;
  res.setHeader("x-request-id", id);
  next();
};
