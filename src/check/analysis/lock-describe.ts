/**
 * Words for locks in findings: what a lock is called ("mutex `m`", "limiter `limit`") and
 * the steps of a chain from a hold to an acquire, shared by the lock rules.
 */
import type { Step, Subject } from "../../core/diagnosis.js";
import type { AcquireEvent, Held } from "./held-walk.js";
import { chainFrom } from "./held-walk.js";
import type { LockKind } from "./lock-apis.js";
import { siteOf } from "./node-site.js";

const NOUN: Readonly<Record<LockKind, string>> = {
  mutex: "mutex",
  semaphore: "semaphore",
  rwlock: "read-write lock",
  limiter: "limiter",
  queue: "queue",
  pool: "pool",
};

/** "mutex `sem`". */
export function describeLock(kind: LockKind, name: string): string {
  return `${NOUN[kind]} \`${name}\``;
}

/** How the hold was taken, for a step: "`sem` acquired (runExclusive)". */
function acquiredText(h: Held): string {
  return `\`${h.ref.name}\` acquired (${h.use.method})`;
}

/** The steps from the acquire of `held` to `event`'s acquire, through the calls between them. */
export function stepsFrom(held: Held, event: AcquireEvent, last: string): Step[] {
  const steps: Step[] = [{ text: acquiredText(held), site: siteOf(held.use.call) }];
  for (const link of chainFrom(event, held)) steps.push({ text: `calls ${link.name}()`, site: siteOf(link.call) });
  steps.push({ text: last, site: siteOf(event.use.call) });
  return steps;
}

/** The lock as a finding's subject, with where it was taken. */
export function lockSubject(held: Held, role: string): Subject {
  return { kind: "lock", name: held.ref.name, role, site: siteOf(held.use.call) };
}

/** " via a() → b()" for a summary, or "" when the acquire is in the holder's own code. */
export function viaText(held: Held, event: AcquireEvent): string {
  const links = chainFrom(event, held);
  return links.length === 0 ? "" : ` via ${links.map((l) => `${l.name}()`).join(" → ")}`;
}
