import type { ListPosition } from "../org-budget.js";
import { invalidCall } from "./call-errors.js";

/** A listing's position, opaque to clients. */
export const encodeCursor = ({ hour, index }: ListPosition): string => Buffer.from(JSON.stringify([hour, index])).toString("base64url");

export function decodeCursor(cursor: string): ListPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString());
    if (Array.isArray(decoded) && decoded.length === 2 && decoded.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
      const [hour, index] = decoded as number[];
      return { hour: hour!, index: index! };
    }
  } catch {
    // Reported below like any other cursor that is not one of ours.
  }
  throw invalidCall("cursor: not a cursor this API returned", [{ path: "cursor", message: "not a cursor this API returned" }]);
}
