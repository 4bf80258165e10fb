import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, renderHtml } from "../../src/report/html/page.js";
import type { LockSnapshot, Snapshot, TaskSnapshot } from "../../src/core/registry.js";
import { reportFixture } from "./html-fixture.js";

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;
/** The live wait-for graph's SVG only (the findings have their own small graphs). */
const liveGraph = (html: string) => html.slice(html.indexOf('id="wait-for-graph"'), html.indexOf("</svg>", html.indexOf('id="wait-for-graph"')));

function task(id: number, extra: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, name: `t${id}`, state: "pending", parentId: undefined, ageMs: 1, site: undefined, waitingOn: undefined, holds: [], ...extra };
}
function lock(id: number, name: string, holders: number[], waiters: number[], capacity = 1): LockSnapshot {
  const p = (taskId: number) => ({ taskId, taskName: `t${taskId}`, site: undefined, forMs: 1, permits: 1 });
  return { id, name, kind: capacity > 1 ? "pool" : "mutex", site: undefined, capacity, holders: holders.map(p), waiters: waiters.map(p) };
}
function snap(tasks: TaskSnapshot[], locks: LockSnapshot[]): Snapshot {
  return { time: Date.now(), tasks, locks, resources: [] };
}

describe("renderHtml", () => {
  it("draws every section: findings with sites and source lines, graph, task tree, timeline, primitives, resources", () => {
    const f = reportFixture();
    const html = renderHtml(f);
    assert.match(html, /^<!doctype html>/);
    for (const id of ["findings", "graph", "tasks", "timeline", "locks", "resources"]) assert.match(html, new RegExp(`<section id="${id}">`));
    assert.match(html, /PROVEN<\/span> deadlock: wait-for cycle <code>\[deadlock-cycle\]<\/code>/);
    assert.match(html, /test\/report\/html-fixture\.ts:23:\d+/, "sites are relative file:line:column");
    assert.match(html, /<pre class="src"><span class="ln">\d+<\/span> /, "source lines are shown");
    assert.match(html, /fix:<\/b> take &#34;accounts&#34; before &#34;audit&#34;/);
    // the task tree nests children under their parent and shows the settled task from the timeline
    assert.match(html, /<b>main<\/b>.*<ul class="tree"><li><span class="state pending">pending<\/span> <b>transfer-a<\/b>/s);
    assert.match(html, /<span class="state fulfilled">fulfilled<\/span> <b>short-lived<\/b>/);
    // timeline bars: waits that ended, holds still open, a task's life
    assert.ok(count(html, /class="bar wait"/g) >= 3, "waits that ended: acquired, or given up");
    assert.match(html, /<circle class="mark abandon"[^>]*><title>gave up waiting for semaphore &#34;cache&#34;: timeout<\/title>/);
    assert.ok(count(html, /class="bar hold open"/g) >= 2);
    assert.match(html, /class="bar life"/);
    assert.match(html, /<b>session<\/b>/);
    assert.match(html, /<td><b>db<\/b><\/td><td>pool<\/td><td>2\/2<\/td>/);
  });

  it("highlights the wait-for cycles of the live graph: the two-lock deadlock and the exhausted pool", () => {
    const g = liveGraph(renderHtml(reportFixture()));
    // accounts→transfer-a→audit→transfer-b→accounts (4 edges) and db⇄report-1, db⇄report-2 (4 edges)
    assert.equal(count(g, /class="edge (wait|hold) cycle"/g), 8);
    assert.equal(count(g, /class="node (task|lock) cycle"/g), 7);
    // the idle task and the free semaphore are not drawn (no edge), and nothing else is red
    assert.doesNotMatch(g, /idle-worker/);
    assert.equal(count(g, /class="node (task|lock)"/g), 0);
  });

  it("draws each deadlock finding's own cycle", () => {
    const html = renderHtml(reportFixture());
    const mini = html.slice(html.indexOf('id="diagnosis-graph-0"'), html.indexOf("</svg>", html.indexOf('id="diagnosis-graph-0"')));
    assert.equal(count(mini, /class="edge (wait|hold) cycle"/g), 4);
    const pool = html.slice(html.indexOf('id="diagnosis-graph-1"'), html.indexOf("</svg>", html.indexOf('id="diagnosis-graph-1"')));
    assert.equal(count(pool, /class="edge (wait|hold) cycle"/g), 4);
    assert.ok(!html.includes('id="diagnosis-graph-2"'), "no graph for a finding that is not a deadlock");
  });

  describe("stays silent (no cycle) on graphs without a deadlock", () => {
    const cases: Array<[string, Snapshot]> = [
      ["a waiter behind a holder", snap([task(1), task(2)], [lock(1, "a", [1], [2])])],
      ["a chain t2→a→t1→b→t3", snap([task(1), task(2), task(3)], [lock(1, "a", [1], [2]), lock(2, "b", [3], [1])])],
      ["a pool with holders that wait on another primitive", snap([task(1), task(2), task(3)], [lock(1, "db", [1, 2], [], 2), lock(2, "m", [3], [1, 2])])],
      ["a pool with a free permit and a waiter", snap([task(1), task(2)], [lock(1, "db", [1], [2], 2)])],
      ["no primitives at all", snap([task(1)], [])],
      [
        "a bare acquire: the task holds and waits, but other code of it may release",
        snap([task(1)], [{ ...lock(1, "a", [], [1]), holders: [{ taskId: 1, taskName: "t1", site: undefined, forMs: 1, permits: 1, scoped: false }] }]),
      ],
    ];
    for (const [name, s] of cases) {
      it(name, () => {
        const html = renderHtml({ diagnoses: [], snapshot: s });
        assert.equal(count(html, /class="(edge|node) [a-z ]*cycle"/g), 0);
        assert.match(html, /No cycle\./);
      });
    }
  });

  it("builds the graph from the tasks' own wait/hold fields when the locks list does not have them", () => {
    const s: Snapshot = {
      time: Date.now(),
      locks: [],
      resources: [],
      tasks: [
        task(1, { waitingOn: { kind: "mutex", name: "b", forMs: 3 }, holds: [{ kind: "mutex", name: "a", site: undefined }] }),
        task(2, { waitingOn: { kind: "mutex", name: "a", forMs: 3 }, holds: [{ kind: "mutex", name: "b", site: undefined }] }),
      ],
    };
    const g = liveGraph(renderHtml({ diagnoses: [], snapshot: s }));
    assert.equal(count(g, /class="edge (wait|hold) cycle"/g), 4);
  });

  it("escapes every name that comes from user code", () => {
    const evil = `<img src=x onerror="alert(1)">'&</script><script>alert(2)</script>`;
    const html = renderHtml({ ...reportFixture(evil), title: evil });
    assert.ok(!html.includes("<img"), "no raw tag from a name");
    assert.equal(count(html, /<script/g), 2, "only the page's own two scripts");
    assert.equal(count(html, /<\/script>/g), 2);
    assert.match(html, /&#60;img src=x onerror=&#34;alert\(1\)&#34;&#62;&#39;&#38;&#60;\/script&#62;/);
    // the embedded data cannot close its script element either
    const data = html.slice(html.indexOf('id="asyncdoctor-data">') + 22, html.lastIndexOf("</script>", html.lastIndexOf("<script>")));
    assert.ok(!/[<>]/.test(data));
    assert.equal((JSON.parse(data) as { snapshot: { tasks: Array<{ name: string }> } }).snapshot.tasks[0]!.name, "main" + evil);
  });

  it("is self-contained: nothing is loaded from elsewhere", () => {
    const html = renderHtml(reportFixture());
    assert.doesNotMatch(html, /\s(src|href)="(?!#)/, "no src or non-fragment href attributes");
    assert.deepEqual(html.match(/https?:\/\/[^"\s]*/g)?.filter((u) => u !== "http://www.w3.org/2000/svg") ?? [], []);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  it("renders an empty report", () => {
    const html = renderHtml({ diagnoses: [], snapshot: { time: Date.now(), tasks: [], locks: [], resources: [] } });
    assert.match(html, /No findings\./);
    assert.match(html, /No tracked tasks\./);
    assert.match(html, /No timeline recorded/);
    assert.match(html, /No task waits on or holds a primitive\./);
  });

  it("escapeHtml escapes the five characters", () => {
    assert.equal(escapeHtml(`<a href="x">'&`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;");
  });

  describe("bad input", () => {
    const ok = reportFixture();
    const cases: Array<[string, unknown, RegExp]> = [
      ["input not an object", null, /"input" argument must be an object\. Received null/],
      ["diagnoses not an array", { ...ok, diagnoses: "x" }, /"input\.diagnoses" argument must be an array of Diagnosis\. Received type string/],
      ["a diagnosis that is not one", { ...ok, diagnoses: [{ rule: "x" }] }, /"input\.diagnoses\[0\]" argument must be a Diagnosis/],
      ["snapshot missing", { diagnoses: [] }, /"input\.snapshot" argument must be an object\. Received undefined/],
      ["snapshot without tasks", { diagnoses: [], snapshot: { time: 1 } }, /"input\.snapshot\.tasks" argument must be an array/],
      ["snapshot without locks", { diagnoses: [], snapshot: { time: 1, tasks: [], resources: [] } }, /"input\.snapshot\.locks" argument must be an array/],
      [
        "snapshot with resources not an array",
        { diagnoses: [], snapshot: { time: 1, tasks: [], locks: [], resources: {} } },
        /"input\.snapshot\.resources" argument must be an array/,
      ],
      ["a timeline event that is not one", { ...ok, timeline: [{ kind: "wait" }] }, /"input\.timeline\[0\]" argument must be a TimelineEvent/],
      ["timeline not an array", { ...ok, timeline: 5 }, /"input\.timeline" argument must be an array of TimelineEvent\. Received type number \(5\)/],
      ["title not a string", { ...ok, title: 5 }, /"input\.title" argument must be of type string/],
      ["sourceLines not a boolean", { ...ok, sourceLines: "yes" }, /"input\.sourceLines" argument must be of type boolean/],
    ];
    for (const [name, input, re] of cases) {
      it(name, () =>
        assert.throws(
          () => renderHtml(input as never),
          (e: Error) => e instanceof TypeError && re.test(e.message),
        ),
      );
    }
  });
});
