/**
 * A double-ended queue on a growable ring buffer: O(1) push and shift at both ends, no
 * `Array#shift` copying on long queues. The backing array is allocated on the first push, so
 * an empty deque (an idle inbox) costs one small object.
 */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  pushBack(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  pushFront(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#size++;
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const capacity = this.#items.length === 0 ? 8 : this.#items.length * 2;
    const next: (T | undefined)[] = new Array(capacity);
    for (let index = 0; index < this.#size; index++) {
      next[index] = this.#items[(this.#head + index) & (this.#items.length - 1)];
    }
    this.#items = next;
    this.#head = 0;
  }
}
