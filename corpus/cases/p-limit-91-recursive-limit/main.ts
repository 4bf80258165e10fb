// p-limit#91 "Recursive use of p-limit may cause silent task loss when inner tasks depend on
// limited concurrency": a task running under the limit waits for sub-tasks queued under the
// same limit. When every slot holds such a task, the sub-tasks never start and nothing errors.
import pLimit from "p-limit";

const limit = pLimit(2);

async function fetchPage(url: string): Promise<string> {
  await new Promise((r) => setTimeout(r, 10));
  return `<html>${url}</html>`;
}

async function crawl(url: string, depth: number): Promise<number> {
  const html = await fetchPage(url);
  if (depth === 0) return html.length;
  const children = [`${url}/a`, `${url}/b`];
  const sizes = await Promise.all(children.map((child) => limit(() => crawl(child, depth - 1))));
  return html.length + sizes.reduce((x, y) => x + y, 0);
}

async function main() {
  const total = await Promise.all(["https://a.example", "https://b.example"].map((u) => limit(() => crawl(u, 1))));
  console.log("crawled", total);
}

main();
