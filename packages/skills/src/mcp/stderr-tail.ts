/** Keeps the last `maxChars` characters written to a stream (a child's stderr). */
export class StderrTail {
  #text = '';
  readonly #maxChars: number;

  constructor(maxChars = 4_096) {
    this.#maxChars = maxChars;
  }

  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > this.#maxChars * 2) this.#text = this.#text.slice(-this.#maxChars);
  }

  toString(): string {
    return this.#text.length > this.#maxChars ? this.#text.slice(-this.#maxChars) : this.#text;
  }

  clear(): void {
    this.#text = '';
  }
}
