/**
 * Joins concurrent callers of the same key onto one in-flight promise, so that one process does
 * one piece of work (one provisioning, one renewal) however many requests ask for it at once.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const promise = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}
