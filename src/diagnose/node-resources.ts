/**
 * Debug mode: the resources Node itself creates, tracked with no `track()` call: ref'd
 * intervals, sockets, servers, child processes, fs streams and FileHandles, http/https requests
 * and their responses (an unconsumed body keeps its socket checked out), and fetch Responses.
 * Each is reported at exit or at the end of a test when still open, with the user's line that
 * created it; the ones that keep the event loop alive are listed in the stuck-awaits report.
 *
 * Node publishes sockets and http requests/responses on diagnostics_channel; the rest are
 * observed by wrapping the function that creates them (and `syncBuiltinESMExports()` so that
 * `import { createReadStream } from "node:fs"` sees the wrapper). Every entry holds its object
 * weakly and reads its state from it when asked.
 */
import type childProcessModule from "node:child_process";
import diagnosticsChannel from "node:diagnostics_channel";
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type httpModule from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type netModule from "node:net";
import { sep } from "node:path";
import { performance } from "node:perf_hooks";
import type timersModule from "node:timers";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import { addObservedResource, nextResourceId } from "./resources.js";
import type { ResourceEntry } from "./resources.js";
import { captureUserSite } from "./user-site.js";

/** What kind of Node resource an observed entry is. */
export type NodeResourceKind =
  "interval" | "socket" | "server" | "child-process" | "fs-stream" | "file-handle" | "http-request" | "http-response" | "fetch-response";

/** How an observed resource's state is read from the live object. */
interface Probe<T extends object> {
  /** Still open: not closed, ended, destroyed or exited. */
  isOpen(target: T): boolean;
  /** Keeps the event loop alive (ref'd) while open. */
  keepsAlive(target: T): boolean;
  /** The name for reports, read when reported (a server's port is known only after listen). */
  name(target: T): string;
  /** Why it counts as open, for the report ("its body was never read"). */
  why?(target: T): string | undefined;
}

/** One observed resource. Its state is read from the object; once collected it counts as closed. */
export class NodeResourceEntry<T extends object = object> implements ResourceEntry {
  readonly id = nextResourceId();
  readonly createdAt = performance.now();
  readonly taskName = currentTask()?.name;
  scope: unknown = undefined;
  readonly kind: NodeResourceKind;
  readonly site: Site | undefined;
  readonly #target: WeakRef<T>;
  readonly #probe: Probe<T>;
  #closed = false;

  constructor(kind: NodeResourceKind, target: T, probe: Probe<T>, site: Site | undefined) {
    this.kind = kind;
    this.#target = new WeakRef(target);
    this.#probe = probe;
    this.site = site;
  }

  get name(): string {
    const t = this.#target.deref();
    return t ? this.#probe.name(t) : this.kind;
  }

  get closed(): boolean {
    if (this.#closed) return true;
    const t = this.#target.deref();
    if (!t || !this.#probe.isOpen(t)) this.#closed = true;
    return this.#closed;
  }

  set closed(value: boolean) {
    if (value) this.#closed = true;
  }

  /** True while it is open and keeps the event loop alive. */
  get keepsAlive(): boolean {
    const t = this.#target.deref();
    return !this.closed && t !== undefined && this.#probe.keepsAlive(t);
  }

  /** Why it counts as open, when there is more to say than its kind. */
  get why(): string | undefined {
    const t = this.#target.deref();
    return t && this.#probe.why ? this.#probe.why(t) : undefined;
  }
}

const live = new Set<NodeResourceEntry>();

/**
 * A built-in module, loaded when observing starts: importing asyncdoctor must not load http,
 * https (and TLS), net and child_process for programs that never use debug mode.
 */
function builtin<T>(name: string): T {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (get ? get(name) : createRequire(process.cwd() + sep)(name)) as T;
}

function observe<T extends object>(kind: NodeResourceKind, target: T, probe: Probe<T>, site: Site | undefined): void {
  // made by asyncdoctor itself or by Node with no user frame on the stack: not the program's
  if (!site) return;
  const entry = new NodeResourceEntry(kind, target, probe, site);
  live.add(entry);
  addObservedResource(entry);
}

/** The observed resources still open, oldest first. */
export function openNodeResources(): NodeResourceEntry[] {
  const out: NodeResourceEntry[] = [];
  for (const e of live) {
    if (e.closed) live.delete(e);
    else out.push(e);
  }
  return out;
}

/** The observed resources that keep the event loop alive now. */
export function loopKeepers(): NodeResourceEntry[] {
  return openNodeResources().filter((e) => e.keepsAlive);
}

interface HandleLike {
  hasRef?: () => boolean;
}

function refd(handle: unknown): boolean {
  const h = handle as HandleLike | null | undefined;
  return typeof h?.hasRef === "function" ? h.hasRef() : h !== null && h !== undefined;
}

const intervalProbe: Probe<NodeJS.Timeout> = {
  isOpen: (t) => (t as unknown as { _destroyed?: boolean })._destroyed !== true && t.hasRef(),
  keepsAlive: (t) => t.hasRef(),
  name: () => "setInterval",
  why: () => "it is still scheduled (never cleared) and keeps the process alive",
};

function endpoint(s: netModule.Socket): string {
  const host = s.remoteAddress ?? (s as unknown as { _host?: string })._host;
  return host ? `${host}:${s.remotePort ?? ""}` : "an unconnected endpoint";
}

const socketProbe: Probe<netModule.Socket> = {
  // an http request's socket is reported as that request or its response, and one kept in an
  // agent's pool of free keep-alive sockets is the agent's to close (it listens for agentRemove)
  // (an idle pooled socket that fetch's client unref'd is the pool's, too)
  isOpen: (s) =>
    !s.destroyed &&
    (s as unknown as { _httpMessage?: unknown })._httpMessage == null &&
    s.listenerCount("agentRemove") === 0 &&
    (s.connecting || refd((s as unknown as { _handle?: unknown })._handle)),
  keepsAlive: (s) => refd((s as unknown as { _handle?: unknown })._handle),
  name: (s) => `socket to ${endpoint(s)}`,
};

const serverProbe: Probe<netModule.Server> = {
  isOpen: (s) => s.listening,
  keepsAlive: (s) => refd((s as unknown as { _handle?: unknown })._handle),
  name: (s) => {
    const a = s.address();
    return `server listening on ${a === null ? "?" : typeof a === "string" ? a : `port ${a.port}`}`;
  },
  why: () => "it was never closed (server.close())",
};

const childProbe: Probe<childProcessModule.ChildProcess> = {
  isOpen: (c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined,
  keepsAlive: (c) => refd((c as unknown as { _handle?: unknown })._handle),
  name: (c) => `child process ${c.spawnfile ?? "?"} (pid ${c.pid ?? "?"})`,
  why: () => "it is still running: wait for its exit, or kill it",
};

const streamProbe: Probe<fs.ReadStream | fs.WriteStream> = {
  isOpen: (s) => !s.closed && !s.destroyed,
  keepsAlive: () => false,
  name: (s) => `${s instanceof fs.ReadStream ? "read" : "write"} stream of ${String(s.path)}`,
};

const fileHandleProbe: Probe<FileHandle> = {
  isOpen: (f) => f.fd !== -1,
  keepsAlive: () => false,
  name: (f) => `FileHandle (fd ${f.fd})`,
};

function requestName(req: ClientRequest): string {
  const host = req.host ?? req.getHeader("host");
  return `${req.method} ${req.protocol ?? "http:"}//${String(host ?? "")}${req.path}`;
}

const requestProbe: Probe<ClientRequest> = {
  isOpen: (r) => !r.destroyed && (r as unknown as { res?: unknown }).res == null,
  keepsAlive: (r) => r.socket !== null && refd((r.socket as unknown as { _handle?: unknown })._handle),
  name: (r) => `http request ${requestName(r)}`,
  why: (r) => (r.writableEnded ? "no response came back yet" : "it was never sent: req.end() was not called"),
};

function responseProbe(req: ClientRequest): Probe<IncomingMessage> {
  const name = requestName(req);
  return {
    isOpen: (r) => !r.readableEnded && !r.destroyed,
    keepsAlive: (r) => r.socket !== null && refd((r.socket as unknown as { _handle?: unknown })._handle),
    name: () => `http response to ${name}`,
    why: () => "its body was never read to the end, so its socket stays checked out of the agent (read it, res.resume(), or res.destroy())",
  };
}

const fetchProbe: Probe<Response> = {
  isOpen: (r) => r.body !== null && !r.bodyUsed && !r.body.locked,
  keepsAlive: () => false,
  name: (r) => `fetch Response from ${r.url || "?"}`,
  why: () =>
    "its body was never read or cancelled, so its connection is held until the Response is garbage-collected (await res.text(), or res.body?.cancel())",
};

let uninstall: (() => void) | undefined;

/**
 * Starts observing Node's own resources (debug mode does it). Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = observeNodeResources();
 * // … later: openResources() includes an fs stream left open, with its creation site
 * ```
 */
export function observeNodeResources(): () => void {
  if (uninstall) return uninstall;
  const net = builtin<typeof netModule>("node:net");
  const http = builtin<typeof httpModule>("node:http");
  const https = builtin<typeof httpModule>("node:https");
  const childProcess = builtin<typeof childProcessModule>("node:child_process");
  const timers = builtin<typeof timersModule>("node:timers");
  const undo: (() => void)[] = [];
  const patch = <O extends object, K extends keyof O>(owner: O, key: K, make: (original: O[K]) => O[K]) => {
    const original = owner[key];
    owner[key] = make(original);
    undo.push(() => {
      owner[key] = original;
    });
  };

  const wrapInterval = (original: typeof setInterval) =>
    function setIntervalObserved(this: unknown, ...args: Parameters<typeof setInterval>) {
      const t = (original as (...a: unknown[]) => NodeJS.Timeout).apply(this, args);
      observe("interval", t, intervalProbe, captureUserSite(setIntervalObserved));
      return t;
    } as unknown as typeof setInterval;
  patch(globalThis, "setInterval", wrapInterval);
  patch(timers, "setInterval", wrapInterval);

  const onSocket = (message: unknown) => {
    const socket = (message as { socket?: unknown }).socket;
    if (socket instanceof net.Socket) observe("socket", socket, socketProbe, captureUserSite(onSocket));
  };
  diagnosticsChannel.subscribe("net.client.socket", onSocket);
  undo.push(() => diagnosticsChannel.unsubscribe("net.client.socket", onSocket));

  patch(
    net.Server.prototype,
    "listen",
    (original) =>
      function listenObserved(this: netModule.Server, ...args: unknown[]) {
        observe("server", this, serverProbe, captureUserSite(listenObserved));
        return (original as (...a: unknown[]) => netModule.Server).apply(this, args);
      } as typeof original,
  );

  patch(
    childProcess.ChildProcess.prototype as unknown as { spawn: (...a: unknown[]) => unknown },
    "spawn",
    (original) =>
      function spawnObserved(this: childProcessModule.ChildProcess, ...args: unknown[]) {
        const site = captureUserSite(spawnObserved);
        const r = original.apply(this, args);
        observe("child-process", this, childProbe, site);
        return r;
      },
  );

  patch(
    fs,
    "createReadStream",
    (original) =>
      function createReadStreamObserved(...args: Parameters<typeof fs.createReadStream>) {
        const s = original(...args);
        observe("fs-stream", s, streamProbe, captureUserSite(createReadStreamObserved));
        return s;
      },
  );
  patch(
    fs,
    "createWriteStream",
    (original) =>
      function createWriteStreamObserved(...args: Parameters<typeof fs.createWriteStream>) {
        const s = original(...args);
        observe("fs-stream", s, streamProbe, captureUserSite(createWriteStreamObserved));
        return s;
      },
  );
  patch(
    fs.promises,
    "open",
    (original) =>
      function openObserved(...args: Parameters<typeof fs.promises.open>) {
        const site = captureUserSite(openObserved);
        const p = original(...args);
        // the handle is observed once it exists; a failed open has nothing to close
        p.then(
          (fh) => observe("file-handle", fh, fileHandleProbe, site),
          () => {},
        );
        return p;
      },
  );

  // Node publishes a request on "http.client.request.start" only once it has a socket (no user
  // frame on the stack by then): the request functions are wrapped for the site instead.
  const requestSites = new WeakMap<object, Site | undefined>();
  for (const mod of [http, https]) {
    for (const key of ["request", "get"] as const) {
      patch(
        mod,
        key,
        (original) =>
          function requestObserved(this: unknown, ...args: unknown[]) {
            const site = captureUserSite(requestObserved);
            const req = (original as (...a: unknown[]) => ClientRequest).apply(this, args);
            requestSites.set(req, site);
            observe("http-request", req, requestProbe, site);
            return req;
          },
      );
    }
  }
  const onResponse = (message: unknown) => {
    const { request, response } = message as { request?: ClientRequest; response?: IncomingMessage };
    // the response arrives on a socket callback: its site is the request's
    if (request && response) observe("http-response", response, responseProbe(request), requestSites.get(request));
  };
  diagnosticsChannel.subscribe("http.client.response.finish", onResponse);
  undo.push(() => diagnosticsChannel.unsubscribe("http.client.response.finish", onResponse));

  if (typeof globalThis.fetch === "function") {
    patch(
      globalThis,
      "fetch",
      (original) =>
        function fetchObserved(...args: Parameters<typeof fetch>) {
          const site = captureUserSite(fetchObserved);
          const p = original(...args);
          p.then(
            (res) => observe("fetch-response", res, fetchProbe, site),
            () => {},
          );
          return p;
        },
    );
  }

  syncBuiltinESMExports();
  uninstall = () => {
    for (const u of undo.reverse()) u();
    syncBuiltinESMExports();
    live.clear();
    uninstall = undefined;
  };
  return uninstall;
}
