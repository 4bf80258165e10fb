/**
 * lock-order: two code paths that take the same two locks in opposite orders, each waiting
 * for the second while holding the first (the seed's 2.2). Run concurrently, each can take
 * its first lock and then wait forever for the other's. Reported once per pair of locks, at
 * the path met second, with both paths.
 */
import type { Step } from "../../core/diagnosis.js";
import type { Rule } from "../rule.js";
import type { AcquireEvent, Held } from "../analysis/held-walk.js";
import { anchorOf, walkHeld } from "../analysis/held-walk.js";
import { capacityOf, typeNamesOption } from "../analysis/lock-apis.js";
import { lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import { sameKey } from "../analysis/lock-identity.js";
import { skipOuter } from "../analysis/own-flow.js";
import type ts from "typescript";

/** One path that waits for `to` while holding `from`. */
interface Edge {
  readonly from: Held;
  readonly event: AcquireEvent;
  readonly anchor: ts.Node;
  /** Lock classes also held around both (a gate lock serialises the two paths). */
  readonly gates: ReadonlySet<string>;
  readonly order: number;
}

function blocks(held: Held): boolean {
  return held.use.mode !== "query" && capacityOf(held.use.kind, held.ref.init) !== Infinity;
}

/** The key of a keyed hold (`redlock.acquire(["a"])`, `asyncLock.acquire("a", fn)`) when it is the same on every run, as text. */
function fixedKey(h: Pick<Held, "use">, checker: ts.TypeChecker): string | undefined {
  const k = h.use.key;
  return k !== undefined && sameKey(k, k, checker) ? skipOuter(k).getText().replace(/\s+/g, "") : undefined;
}

/**
 * The lock class of a hold: the lock's own class, and for a keyed lock with a fixed key that
 * key too, so `["lock:a"]` and `["lock:b"]` of one Redlock are two locks whose order counts.
 * Undefined for a keyed hold whose key varies: which lock it is cannot be told.
 */
function lockClass(h: Pick<Held, "use" | "ref">, checker: ts.TypeChecker): string | undefined {
  if (h.use.key === undefined) return h.ref.classKey;
  const k = fixedKey(h, checker);
  return k === undefined ? undefined : `${h.ref.classKey}[${k}]`;
}

/** A lock's name, with its key when the key is fixed: `redlock ["lock:audit"]`. */
function nameOf(h: Pick<Held, "use" | "ref">, checker: ts.TypeChecker): string {
  const k = fixedKey(h, checker);
  return k === undefined ? h.ref.name : `${h.ref.name} ${k}`;
}

function position(node: ts.Node, files: readonly ts.SourceFile[]): number {
  const sf = node.getSourceFile();
  return files.indexOf(sf) * 1e9 + node.getStart(sf);
}

function pathSteps(label: string, e: Edge): Step[] {
  const lead: Step[] = e.event.chain.slice(0, e.from.depth).map((l) => ({ text: `calls ${shortCall(l.call)}`, site: siteOf(l.call) }));
  const steps = [...lead, ...stepsFrom(e.from, e.event, `\`${e.event.ref.name}\` acquired (${e.event.use.method}) while \`${e.from.ref.name}\` is held`)];
  return steps.map((s, i) => (i === 0 ? { ...s, text: `${label}: ${s.text}` } : s));
}

function shortCall(call: ts.CallExpression): string {
  const text = call.getText().replace(/\s+/g, " ");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export const lockOrder: Rule = {
  meta: {
    id: "lock-order",
    description: "two code paths take the same two locks in opposite orders: each can hold one and wait for the other",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const edges = new Map<string, Edge[]>();
    const reentrant = new Set<string>();
    const nodeIds = new Map<ts.Node, number>();
    const ids = (n: ts.Node): number => {
      let id = nodeIds.get(n);
      if (id === undefined) nodeIds.set(n, (id = nodeIds.size + 1));
      return id;
    };
    const custom = { locks: typeNamesOption(ctx.options, "locks", "lock-order"), pools: typeNamesOption(ctx.options, "pools", "lock-order") };
    walkHeld(
      ctx.sourceFiles,
      ctx.checker,
      (event) => {
        if (!event.ref.known || !blocks({ ref: event.ref, use: event.use, depth: 0 })) return;
        // taking again what is held is nested-acquire's finding, not an order; the same two acquires
        // seen again from a walk that knows less (a callback walked on its own) are not one either
        // (two fixed keys of one keyed lock that differ are two locks)
        const keysDiffer = (h: Held) => {
          const a = fixedKey(h, ctx.checker);
          const b = fixedKey(event, ctx.checker);
          return a !== undefined && b !== undefined && a !== b;
        };
        if (event.held.some((h) => h.ref.key === event.ref.key && !keysDiffer(h))) {
          for (const from of event.held) reentrant.add(`${ids(from.use.call)}>${ids(event.use.call)}`);
          return;
        }
        const to = lockClass(event, ctx.checker);
        if (to === undefined) return;
        for (const from of event.held) {
          const fromClass = lockClass(from, ctx.checker);
          if (!from.ref.known || from.use === event.use || fromClass === undefined || fromClass === to || !blocks(from)) continue;
          if (from.ref.classKey === event.ref.classKey && (from.use.key === undefined) !== (event.use.key === undefined)) continue;
          if (reentrant.has(`${ids(from.use.call)}>${ids(event.use.call)}`)) continue;
          const pair = `${fromClass}>${to}`;
          // taken below the entry function: the call there that led in (and bound the locks) is the place
          const anchor = from.depth > 0 ? event.chain[0]!.call : anchorOf(event, from);
          let list = edges.get(pair);
          if (!list) edges.set(pair, (list = []));
          // the same two acquires seen from a caller's walk add nothing, unless the caller bound the locks
          if (list.some((e) => (e.anchor === anchor || e.from.depth === 0) && e.from.use.call === from.use.call && e.event.use.call === event.use.call))
            continue;
          const gates = new Set(event.held.slice(0, event.held.indexOf(from)).map((h) => lockClass(h, ctx.checker) ?? h.ref.classKey));
          list.push({ from, event, anchor, gates, order: position(anchor, ctx.sourceFiles) });
        }
      },
      custom,
    );
    const reported = new Set<string>();
    for (const [pair, forward] of edges) {
      const [a, b] = pair.split(">") as [string, string];
      const backward = edges.get(`${b}>${a}`);
      const unordered = a < b ? `${a}|${b}` : `${b}|${a}`;
      if (!backward || reported.has(unordered)) continue;
      // the order most paths keep is the program's order; the finding goes to a path that breaks it
      // (with as many paths each way, to the one met second in the source)
      const odd = forward.length < backward.length ? "forward" : backward.length < forward.length ? "backward" : undefined;
      let found: [Edge, Edge] | undefined;
      for (const f of forward) {
        for (const g of backward) {
          if ([...f.gates].some((x) => g.gates.has(x))) continue; // one gate lock around both paths: they never overlap
          const cand: [Edge, Edge] = odd === "forward" ? [g, f] : odd === "backward" ? [f, g] : f.order <= g.order ? [f, g] : [g, f];
          if (!found || cand[1].order < found[1].order || (cand[1] === found[1] && cand[0].order < found[0].order)) found = cand;
        }
      }
      if (!found) continue;
      reported.add(unordered);
      const [first, second] = found;
      const x = nameOf(first.from, ctx.checker);
      const y = nameOf(first.event, ctx.checker);
      ctx.report({
        node: second.anchor,
        summary: `\`${y}\` and \`${x}\` are taken in opposite orders: here \`${nameOf(second.event, ctx.checker)}\` is awaited while holding \`${nameOf(second.from, ctx.checker)}\`${viaText(second.from, second.event)}, but ${shortSite(first.anchor)} awaits \`${y}\` while holding \`${x}\`${viaText(first.from, first.event)}; run together, each can hold one and wait forever for the other`,
        fix: `Take the two locks in one order everywhere: take \`${x}\` before \`${y}\` on both paths (or take both at once with \`lockAll([${x}, ${y}])\`).`,
        subjects: [
          lockSubject(first.from, `held while waiting for \`${y}\``),
          { kind: "lock", name: y, role: `acquired while holding \`${x}\``, site: siteOf(first.event.use.call) },
          lockSubject(second.from, `held while waiting for \`${x}\``),
          { kind: "lock", name: nameOf(second.event, ctx.checker), role: `acquired while holding \`${y}\``, site: siteOf(second.event.use.call) },
        ],
        steps: [...pathSteps("first path", first), ...pathSteps("second path", second)],
        data: { locks: [x, y] },
      });
    }
  },
};
