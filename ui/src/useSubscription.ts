import { useEffect } from "react";

/**
 * Subscribes with `subscribe` (which resolves to how to stop) while `key` stays the same, and
 * stops when it changes or the component goes — also when that happens before the
 * subscription has resolved. A refused subscription is left to the screen to explain.
 */
export function useSubscription(subscribe: () => Promise<() => void>, key: unknown): void {
  useEffect(() => {
    let stop: (() => void) | undefined;
    let live = true;
    subscribe().then(
      (unsubscribe) => (live ? (stop = unsubscribe) : unsubscribe()),
      () => undefined,
    );
    return () => {
      live = false;
      stop?.();
    };
    // `subscribe` is a new closure on every render; `key` says what it subscribes to.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
}
