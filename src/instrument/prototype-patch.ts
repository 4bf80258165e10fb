/**
 * Wrapping a library's methods in place, once: the ORM instrumentations patch the classes the
 * library exports (and the ones it makes internally), which both module systems share.
 */
import { processWide } from "../core/process-wide.js";

/** A method as it is wrapped. */
export type Method = (this: unknown, ...args: unknown[]) => unknown;

const wrappers = processWide("instrumentWrappers", () => new WeakSet<object>());

/** The object on `start`'s prototype chain that defines `key` itself. */
export function definer(start: object, key: string): Record<string, unknown> | undefined {
  for (let o: object | null = start; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, key)) return o as Record<string, unknown>;
  }
  return undefined;
}

/**
 * Replaces `holder[key]` with `make(original)`, unless it is already one of these wrappers.
 * The wrapper keeps the original's name and is not enumerable.
 */
export function wrapMethod(holder: Record<string, unknown>, key: string, make: (original: Method) => Method): void {
  const original = holder[key];
  if (typeof original !== "function" || wrappers.has(original)) return;
  const desc = Object.getOwnPropertyDescriptor(holder, key);
  if (desc !== undefined && desc.writable !== true && desc.configurable !== true) return;
  const wrapped = make(original as Method);
  Object.defineProperty(wrapped, "name", { value: (original as Method).name });
  wrappers.add(wrapped);
  Object.defineProperty(holder, key, { value: wrapped, configurable: true, writable: true, enumerable: desc?.enumerable ?? false });
}
