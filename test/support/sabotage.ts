import type { TestApp } from "./test-app.js";

// Breaking the database for real, to see what the API answers when a statement fails (as opposed to an unreachable
// database): a trigger that raises, or a renamed column. Each sabotage comes with its repair.

export interface Sabotage {
  readonly apply: string;
  readonly repair: string;
}

/** Creates the function the `rejecting` triggers call; once per database. */
export async function prepareSabotage(app: TestApp): Promise<void> {
  await app.db.$executeRawUnsafe(`
    CREATE FUNCTION sluice_test_sabotage() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'sabotaged by the test'; END $$`);
}

/** Every `event` statement on `table` raises an exception. */
export const rejecting = (event: "INSERT" | "UPDATE" | "DELETE", table: string): Sabotage => ({
  apply: `CREATE TRIGGER sluice_test_sabotage BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION sluice_test_sabotage()`,
  repair: `DROP TRIGGER sluice_test_sabotage ON ${table}`,
});

/** Reads of `table` fail: a column they select is gone. */
export const unreadable = (table: string, column: string): Sabotage => ({
  apply: `ALTER TABLE ${table} RENAME COLUMN ${column} TO ${column}_sabotaged`,
  repair: `ALTER TABLE ${table} RENAME COLUMN ${column}_sabotaged TO ${column}`,
});

/** Runs `during` while `sabotage` is in force, then repairs the database whatever happened. */
export async function whileBroken<T>(app: TestApp, sabotage: Sabotage, during: () => Promise<T>): Promise<T> {
  await app.db.$executeRawUnsafe(sabotage.apply);
  try {
    return await during();
  } finally {
    await app.db.$executeRawUnsafe(sabotage.repair);
  }
}
