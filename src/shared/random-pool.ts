import { randomBytes } from "node:crypto";

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * `size` random bytes, drawn from a pool refilled 4 KB at a time: the ids made for every request and every call
 * cost one system call per many instead of one each. The bytes are a view: read them before the next call.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (used + size > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, size));
    used = 0;
  }
  const bytes = pool.subarray(used, used + size);
  used += size;
  return bytes;
}
