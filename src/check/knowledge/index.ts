/**
 * Every package the checker knows the locks, limiters, pools and transactions of, by type.
 * The held-region walk, the lock rules and the transaction rules read this list.
 */
import type { PackageKnowledge } from "./package-knowledge.js";
import { asyncdoctorKnowledge } from "./asyncdoctor.js";
import { asyncMutexKnowledge } from "./async-mutex.js";
import { pLimitKnowledge } from "./p-limit.js";
import { pQueueKnowledge } from "./p-queue.js";
import { asyncLockKnowledge } from "./async-lock.js";
import { morticeKnowledge } from "./mortice.js";
import { redlockKnowledge } from "./redlock.js";
import { webLocksKnowledge } from "./web-locks.js";
import { pgKnowledge } from "./pg.js";
import { mysql2Knowledge } from "./mysql2.js";
import { knexKnowledge } from "./knex.js";
import { sequelizeKnowledge } from "./sequelize.js";
import { typeormKnowledge } from "./typeorm.js";
import { prismaKnowledge } from "./prisma.js";
import { mikroOrmKnowledge } from "./mikro-orm.js";
import { kyselyKnowledge } from "./kysely.js";
import { drizzleKnowledge } from "./drizzle.js";
import { genericPoolKnowledge } from "./generic-pool.js";
import { ioredisKnowledge } from "./ioredis.js";

/** All package knowledge, in the order the README lists it. */
export const knowledge: readonly PackageKnowledge[] = [
  asyncdoctorKnowledge,
  asyncMutexKnowledge,
  pLimitKnowledge,
  pQueueKnowledge,
  asyncLockKnowledge,
  morticeKnowledge,
  redlockKnowledge,
  webLocksKnowledge,
  pgKnowledge,
  mysql2Knowledge,
  knexKnowledge,
  sequelizeKnowledge,
  typeormKnowledge,
  prismaKnowledge,
  mikroOrmKnowledge,
  kyselyKnowledge,
  drizzleKnowledge,
  genericPoolKnowledge,
  ioredisKnowledge,
];

const byPackage = new Map<string, PackageKnowledge>();
for (const k of knowledge) for (const p of k.packages) byPackage.set(p, k);

/** The knowledge covering the npm package `pkg` (as found under node_modules), if any. */
export function knowledgeOf(pkg: string): PackageKnowledge | undefined {
  return byPackage.get(pkg);
}

/** Every package name some knowledge covers. */
export const knownPackages: ReadonlySet<string> = new Set(byPackage.keys());

/** Every method name some knowledge may recognise. */
export const knownMethods: ReadonlySet<string> = new Set(knowledge.flatMap((k) => [...(k.methods ?? [])]));
