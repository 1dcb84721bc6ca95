import { z } from "zod";

/** What a delete answers (CONTRACT §5). */
export const deleteResponse = z.strictObject({}).meta({ id: "DeleteResponse" });
