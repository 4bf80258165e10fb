/**
 * The live tasks of an owner, as an intrusive doubly linked list. A Set would do, but adding a
 * fresh object to a Set makes V8 give it an identity hash, which costs about a microsecond per
 * task here: more than the rest of spawn together.
 */

/** A list cell; an item holds its own so removal needs no lookup. */
export interface ListNode<T> {
  readonly value: T;
  prev: ListNode<T> | undefined;
  next: ListNode<T> | undefined;
}

/** What the list stores: anything that keeps its cell. */
export interface Listed<T> {
  /** @internal the item's cell while it is in a list. */
  listNode: ListNode<T> | undefined;
}

/** Insertion-ordered, O(1) add and delete, Set-like. */
export class LiveList<T extends Listed<T>> implements Iterable<T> {
  #head: ListNode<T> | undefined;
  #tail: ListNode<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(value: T): void {
    const node: ListNode<T> = { value, prev: this.#tail, next: undefined };
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    value.listNode = node;
    this.#size++;
  }

  /** Removes `value` if it is in this list. */
  delete(value: T): boolean {
    const node = value.listNode;
    if (!node) return false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    value.listNode = undefined;
    this.#size--;
    return true;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let n = this.#head; n; n = n.next) yield n.value;
  }
}
