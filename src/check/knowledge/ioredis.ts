/**
 * ioredis: `const tx = redis.multi()` opens a transaction that holds until `tx.exec()` (or
 * `discard()`); a command sent on `redis` itself meanwhile is not part of it. `multi()` queues
 * without waiting, so it opens the hold without being awaited.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

// commands that are not sent to the server, or that manage the connection
const NOT_COMMANDS = new Set([
  "multi",
  "pipeline",
  "exec",
  "discard",
  "on",
  "once",
  "off",
  "quit",
  "disconnect",
  "connect",
  "duplicate",
  "defineCommand",
  "watch",
  "unwatch",
]);

const COMMANDS = [
  "get",
  "set",
  "del",
  "incr",
  "decr",
  "incrby",
  "decrby",
  "hget",
  "hset",
  "hgetall",
  "hdel",
  "hincrby",
  "hmget",
  "hmset",
  "lpush",
  "rpush",
  "lpop",
  "rpop",
  "lrange",
  "sadd",
  "srem",
  "smembers",
  "zadd",
  "zrange",
  "zrem",
  "zscore",
  "zincrby",
  "expire",
  "pexpire",
  "ttl",
  "exists",
  "mget",
  "mset",
  "setex",
  "setnx",
  "getset",
  "getdel",
  "publish",
  "eval",
  "evalsha",
  "xadd",
  "xread",
  "blpop",
  "brpop",
  "call",
];

export const ioredisKnowledge: PackageKnowledge = {
  name: "ioredis",
  packages: ["ioredis"],
  methods: new Set(["multi", ...COMMANDS]),
  recognise({ call, method, typeName }): Recognised | undefined {
    if (method === undefined || (typeName !== "Redis" && typeName !== "Cluster")) return undefined;
    if (method === "multi") return call.arguments.length === 0 ? { kind: "pool", mode: "handle", transaction: true, immediate: true } : undefined;
    if (NOT_COMMANDS.has(method)) return undefined;
    return { kind: "pool", mode: "query" };
  },
};
