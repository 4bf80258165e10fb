// lodash#5248 "forEach with async/await does not finish before moving on": _.forEach with an
// async iteratee starts every call and returns at once; the method returns its array before
// any result is in it (and a failing call reaches no handler).
import _ from "lodash";

async function someThing(element: number, attribute: string) {
  await new Promise((r) => setTimeout(r, 10));
  return `${attribute}=${element * 2}`;
}

async function method(object: Record<string, number>) {
  const array: string[] = [];
  _.forEach(object, async (element, attribute) => {
    const result = await someThing(element, attribute);
    array.push(result);
  });
  return array;
}

method({ a: 1, b: 2 }).then((array) => console.log("result", array));
