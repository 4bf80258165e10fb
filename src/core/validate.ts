/**
 * Argument checks shared by every public function. Errors follow Node's own style: the
 * argument's name, what was expected and what was received, with a `code` property.
 */

/** A short, safe rendering of a received value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return `type string (${JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value)})`;
    case "number":
    case "bigint":
    case "boolean":
      return `type ${typeof value} (${String(value)})`;
    case "function":
      return `function ${(value as { name?: string }).name || "<anonymous>"}`;
    case "symbol":
      return `type symbol (${String(value)})`;
    default: {
      const ctor = value.constructor?.name;
      return ctor ? `an instance of ${ctor}` : "type object";
    }
  }
}

/** A TypeError carrying Node's `ERR_INVALID_ARG_TYPE` code. */
export class InvalidArgTypeError extends TypeError {
  readonly code = "ERR_INVALID_ARG_TYPE";
  constructor(name: string, expected: string, value: unknown) {
    super(`The "${name}" argument must be ${expected}. Received ${describe(value)}`);
    this.name = "TypeError";
  }
}

/** A RangeError carrying Node's `ERR_OUT_OF_RANGE` code. */
export class OutOfRangeError extends RangeError {
  readonly code = "ERR_OUT_OF_RANGE";
  constructor(name: string, expected: string, value: unknown) {
    super(`The value of "${name}" is out of range. It must be ${expected}. Received ${describe(value)}`);
    this.name = "RangeError";
  }
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") throw new InvalidArgTypeError(name, "a function", value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") throw new InvalidArgTypeError(name, "of type string", value);
}

export function validateOptionalString(value: unknown, name: string): asserts value is string | undefined {
  if (value !== undefined) validateString(value, name);
}

export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== "object") throw new InvalidArgTypeError(name, "an object", value);
}

export function validateOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): asserts value is T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgTypeError(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
  }
}

/** A duration in milliseconds: a finite number > 0 (or ≥ 0 with allowZero). `Infinity` is allowed with allowInfinity. */
export function validateTimeoutMs(value: unknown, name: string, opts: { allowZero?: boolean; allowInfinity?: boolean } = {}): asserts value is number {
  if (typeof value !== "number") throw new InvalidArgTypeError(name, "of type number (milliseconds)", value);
  if (Number.isNaN(value)) throw new OutOfRangeError(name, "a number of milliseconds, not NaN", value);
  if (value === Infinity && opts.allowInfinity) return;
  if (!Number.isFinite(value)) throw new OutOfRangeError(name, "a finite number of milliseconds", value);
  if (opts.allowZero ? value < 0 : value <= 0) {
    throw new OutOfRangeError(name, opts.allowZero ? ">= 0" : "> 0", value);
  }
  // Node's timers take at most 2^31-1 ms and fire after 1 ms for anything longer
  if (value > MAX_TIMER_MS) {
    throw new OutOfRangeError(
      name,
      `<= ${MAX_TIMER_MS} (about 24.8 days, the longest a Node.js timer can wait)${opts.allowInfinity ? "; pass Infinity for no limit" : ""}`,
      value,
    );
  }
}

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** An integer >= min (default 1). */
export function validateInteger(value: unknown, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== "number") throw new InvalidArgTypeError(name, "of type number", value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OutOfRangeError(name, `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ""}`, value);
  }
}

export function validateSignal(value: unknown, name: string): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgTypeError(name, "an AbortSignal", value);
  }
}

/** True for a promise or any object with a callable `then` (what `await` adopts). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
}
