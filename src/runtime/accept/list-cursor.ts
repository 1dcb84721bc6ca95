import { invalidCall } from "./call-errors.js";

/** Where a listing stopped: the last call returned and its place in the org's index. Opaque to clients. */
export interface ListPosition {
  callId: string;
  score: string;
}

export const encodeCursor = ({ callId, score }: ListPosition): string => Buffer.from(JSON.stringify([score, callId])).toString("base64url");

export function decodeCursor(cursor: string): ListPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString());
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [score, callId] = decoded as unknown[];
      if (typeof score === "string" && /^\d{1,17}$/.test(score) && typeof callId === "string") return { score, callId };
    }
  } catch {
    // Reported below like any other cursor that is not one of ours.
  }
  throw invalidCall("cursor: not a cursor this API returned", [{ path: "cursor", message: "not a cursor this API returned" }]);
}
