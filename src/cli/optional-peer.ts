/**
 * The heavy tools some commands need are optional peer dependencies, so that a user of the
 * library alone installs neither: TypeScript for `check`, tsx for `run` on a .ts file. When one
 * is missing, the command says which package to install instead of printing a module-not-found
 * stack.
 */

/** The optional peers, and what needs each. */
export const optionalPeers = {
  typescript: "asyncdoctor check (the static checker) needs TypeScript",
  tsx: "asyncdoctor run needs tsx to run a TypeScript file",
} as const;

/** One of {@link optionalPeers}. */
export type OptionalPeer = keyof typeof optionalPeers;

/**
 * The optional peer whose absence caused `err` (a failed import, require or require.resolve of
 * it), or undefined for any other error.
 */
export function missingPeer(err: unknown): OptionalPeer | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return undefined;
  const name = /Cannot find (?:package|module) '([^'/]+)/.exec(err.message)?.[1];
  return name !== undefined && Object.hasOwn(optionalPeers, name) ? (name as OptionalPeer) : undefined;
}

/** What to tell the user when `peer` is missing. */
export function installHint(peer: OptionalPeer): string {
  return `${optionalPeers[peer]}, which is not installed. Install it next to asyncdoctor: npm install --save-dev ${peer}\n`;
}
