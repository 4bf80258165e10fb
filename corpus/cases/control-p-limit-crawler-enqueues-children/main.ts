// Correct: a crawler under p-limit enqueues each child page on the same limit without awaiting
// it from inside the task, so a task never holds a slot while waiting for one; completion is
// tracked outside the limit. (The correct counterpart of p-limit#91.)
import pLimit from "p-limit";

const limit = pLimit(2);
const pending: Array<Promise<void>> = [];
const seen = new Set<string>();

async function fetchPage(url: string) {
  await new Promise((r) => setTimeout(r, 5));
  return url.split("/").length < 5 ? [`${url}/a`, `${url}/b`] : [];
}

function visit(url: string) {
  if (seen.has(url)) return;
  seen.add(url);
  pending.push(
    limit(async () => {
      const links = await fetchPage(url);
      for (const link of links) visit(link);
    }),
  );
}

async function main() {
  visit("https://example.com");
  for (let i = 0; i < pending.length; i++) await pending[i];
  console.log("crawled", seen.size, "pages");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
