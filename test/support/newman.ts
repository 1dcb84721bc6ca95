import newman, { type NewmanRunSummary } from "newman";

// Runs a Postman collection in-process with newman, as a user of Sluice would from Postman.

export interface EnvironmentValue {
  key: string;
  value: string;
}

export interface ExecutedItem {
  name: string;
  passedAssertions: number;
}

export interface CollectionRun {
  summary: NewmanRunSummary;
  /** The collection's requests as they ran; `pm.sendRequest` calls from scripts are not items. */
  executedItems: ExecutedItem[];
}

/** Runs `collection` (only its `folder`, if given) with the environment `values`. */
export function runCollection(collection: object, values: EnvironmentValue[], folder?: string): Promise<CollectionRun> {
  const executedItems: ExecutedItem[] = [];
  let passedAssertions = 0;
  return new Promise((resolve, reject) => {
    newman
      .run({ collection, environment: { values }, timeoutRequest: 10_000, ...(folder ? { folder } : {}) }, (error, summary) =>
        error ? reject(error) : resolve({ summary, executedItems }),
      )
      .on("beforeItem", () => (passedAssertions = 0))
      .on("assertion", (error: unknown) => (passedAssertions += error ? 0 : 1))
      .on("item", (_error, { item }: { item: { name: string } }) => executedItems.push({ name: item.name, passedAssertions }));
  });
}

/** One line per failure, "request: test — message" (a script error has no test name), for a readable assertion diff. */
export const describeFailures = (summary: NewmanRunSummary) =>
  summary.run.failures
    .map(({ source, error }) => `${source?.name ?? "?"}: ${error.test ? `${error.test} — ` : ""}${error.message}`)
    .join("\n");
