import type { NotificationListener } from './database.js';

/** In-process notification fan-out, one per database. */
export class LocalNotifier {
  readonly #channels = new Map<string, Set<NotificationListener>>();

  add(channel: string, listener: NotificationListener): boolean {
    let listeners = this.#channels.get(channel);
    const first = listeners === undefined;
    if (listeners === undefined) {
      listeners = new Set();
      this.#channels.set(channel, listeners);
    }
    listeners.add(listener);
    return first;
  }

  /** Returns true when the channel has no listener left. */
  remove(channel: string, listener: NotificationListener): boolean {
    const listeners = this.#channels.get(channel);
    if (listeners === undefined) return true;
    listeners.delete(listener);
    if (listeners.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  emit(channel: string, payload: string): void {
    const listeners = this.#channels.get(channel);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      try {
        listener(payload);
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  emitAll(payload: string): void {
    for (const channel of [...this.#channels.keys()]) this.emit(channel, payload);
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  clear(): void {
    this.#channels.clear();
  }
}
