import { z } from "zod";

/** A config's runtime as the workers see it (CONTRACT §3): the `runtime` block of GET and list. */
export const runtimeStatus = z
  .object({
    version: z.int().meta({ description: "Runtime version number (`version` \"<n>.0\" of the config)." }),
    status: z.enum(["active", "draining"]),
    drainUntil: z.iso.datetime().optional(),
    queued: z.int().meta({ description: "Calls waiting in this version's queue." }),
    oldestQueuedAgeMs: z.int().meta({ description: "Age of the oldest waiting call; 0 when none." }),
    dispatchedLastMinute: z.int(),
    expiredTotal: z.int(),
  })
  .meta({ id: "RuntimeStatus" });
export type RuntimeStatus = z.infer<typeof runtimeStatus>;
