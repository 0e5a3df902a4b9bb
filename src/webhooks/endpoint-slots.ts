/**
 * Deliveries in flight per endpoint in this process, at most `perEndpoint` each. A delivery that
 * finds no free slot does not wait for one: its job is deferred, so that a slow endpoint holds at
 * most `perEndpoint` of the worker's slots and never the others'.
 */
export class EndpointSlots {
  private readonly inFlight = new Map<number, number>();

  constructor(private readonly perEndpoint: number) {}

  /** A release function when a slot was free (call it exactly once), undefined when none was. */
  tryAcquire(endpointId: number): (() => void) | undefined {
    const used = this.inFlight.get(endpointId) ?? 0;
    if (used >= this.perEndpoint) return undefined;
    this.inFlight.set(endpointId, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(endpointId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(endpointId, left);
      else this.inFlight.delete(endpointId);
    };
  }

  inUse(endpointId: number): number {
    return this.inFlight.get(endpointId) ?? 0;
  }
}
