// The HTML report in a real headless Chromium: it loads without errors or requests, the graph is
// drawn with the cycle highlighted, names stay text, and a screenshot is kept for people to look at.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { renderHtml } from "../../src/report/html/page.js";
import { reportFixture } from "./html-fixture.js";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { liveDeadlock } from "./live-deadlock.js";

const ARTIFACTS = "test-artifacts";

/** The little of the DOM the page functions use (the project's lib has no DOM types). */
interface DomElement {
  getBoundingClientRect(): { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number; readonly width: number };
  querySelectorAll(selector: string): Iterable<DomElement>;
}
const skip = skipWithoutChromium();

// the skip goes on each test, not the suite: Node 20 does not count a skipped suite's tests
describe("HTML report in headless Chromium", () => {
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let dir: string;
  before(async () => {
    if (skip) return;
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), "asyncdoctor-html-"));
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(html: string, name: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    return { page, errors, requests };
  }

  it("loads with no console errors, draws the graph and highlights the cycle", { skip }, async () => {
    const { page, errors, requests } = await open(renderHtml(reportFixture()), "report");
    assert.equal(await page.getAttribute("html", "data-ready"), "1", "the page script ran");
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith("file:")),
      [],
      "nothing fetched from the network",
    );

    const graph = page.locator("svg#wait-for-graph");
    const box = await graph.boundingBox();
    assert.ok(box && box.width > 200 && box.height > 200, `graph drawn at a visible size: ${JSON.stringify(box)}`);
    assert.equal(await graph.locator("g.node").count(), 7);
    assert.equal(await graph.locator("g.node.cycle").count(), 7);
    assert.equal(await graph.locator("path.edge").count(), 8);
    assert.equal(await graph.locator("path.edge.cycle").count(), 8);
    // the highlight is visible: cycle edges are painted red
    const stroke = await graph
      .locator("path.edge.cycle")
      .first()
      .evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { stroke: string } }).getComputedStyle(el).stroke);
    assert.equal(stroke, "rgb(198, 40, 40)");
    // every node sits inside the drawing
    const outside = await graph.evaluate((svg: DomElement) => {
      const r = svg.getBoundingClientRect();
      return [...svg.querySelectorAll("g.node")].filter((g) => {
        const b = g.getBoundingClientRect();
        return b.width === 0 || b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1;
      }).length;
    });
    assert.equal(outside, 0);

    // clicking a node highlights its edges
    await graph.locator('g.node[data-key="t:2"]').click();
    assert.equal(await graph.locator("path.edge.focus").count(), 2);

    assert.equal(await page.locator("svg.timeline rect.bar").count(), 10);
    assert.equal(await page.locator("article.diagnosis").count(), 3);
    assert.equal(await page.locator("#tasks ul.tree li").count(), 7);
    await page.screenshot({ path: join(ARTIFACTS, "html-report.png"), fullPage: true });
    await page.close();
  });

  it("shows hostile names as text and runs none of them", { skip }, async () => {
    const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
    const { page, errors, requests } = await open(renderHtml({ ...reportFixture(evil), title: evil }), "hostile");
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith("file:")),
      [],
    );
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.equal(await page.locator("script").count(), 2);
    assert.equal(await page.title(), evil);
    assert.ok((await page.locator("#findings .summary").first().textContent())?.includes(evil));
    await page.screenshot({ path: join(ARTIFACTS, "html-report-hostile.png") });
    await page.close();
  });

  it("draws a real deadlock, from the snapshot taken when it was found", { skip }, async () => {
    const { page, errors } = await open(renderHtml(await liveDeadlock()), "live");
    assert.deepEqual(errors, []);
    assert.equal(await page.locator("svg#wait-for-graph path.edge.cycle").count(), 4);
    await page.screenshot({ path: join(ARTIFACTS, "html-report-live.png"), fullPage: true });
    await page.close();
  });
});
