/**
 * Runs tasks one at a time per key, in arrival order, within this process. Used so that concurrent writes to one
 * row wait here, holding nothing, instead of each holding a database connection while it waits for the row lock:
 * 50 concurrent PUTs of one config otherwise took the whole pool and starved every other request.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
