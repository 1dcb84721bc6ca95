// cluster-key-slot (the CRC16 ioredis routes cluster commands with) ships no types.
declare module "cluster-key-slot" {
  /** The Redis Cluster hash slot of a key, honouring its {hash tag}. */
  export default function calculateSlot(key: string | Buffer): number;
}
