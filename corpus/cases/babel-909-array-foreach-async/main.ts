// babel#909 "async/await in .forEach doesn't seem to actually await async operations": the
// reporter expected 1 2 3, then "after foreach", then "done"; forEach ignores the promises its
// async callback returns, so "after foreach" and "done" come first.
async function getData(x: number) {
  return new Promise<number>((resolve) => setTimeout(() => resolve(x), 50));
}

async function test() {
  const arr = [1, 2, 3];
  arr.forEach(async (num) => {
    const result = await getData(num);
    console.log(result);
  });
  console.log("after foreach");
}

test().then(() => {
  console.log("done");
});
