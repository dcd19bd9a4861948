import { useCallback, useEffect, useState } from "react";
import { toBackendError, type ErrorInfo } from "./backend";

export type Load<T> =
  { state: "loading"; value?: T } | { state: "ready"; value: T } | { state: "failed"; error: ErrorInfo; value?: T };

type Settled<T> = { id: string; value?: T; error?: ErrorInfo };

/**
 * Runs `load` whenever `key` changes, and again on `reload()`. The last value stays visible
 * while a new one loads, so screens repaint from cache instead of flashing empty.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => void] {
  const [generation, setGeneration] = useState(0);
  const id = `${key}\u0000${generation}`;
  const [settled, setSettled] = useState<Settled<T> | null>(null);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setSettled({ id, value }),
      (thrown: unknown) =>
        live && setSettled((previous) => ({ id, value: previous?.value, error: toBackendError(thrown).info })),
    );
    return () => {
      live = false;
    };
    // `load` is a new closure on every render; `id` says what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  if (settled?.id !== id) return [{ state: "loading", value: settled?.value }, reload];
  if (settled.error) return [{ state: "failed", error: settled.error, value: settled.value }, reload];
  return [{ state: "ready", value: settled.value as T }, reload];
}

/** The same load, its value seen through `pick`. */
export function mapLoad<T, U>(load: Load<T>, pick: (value: T) => U): Load<U> {
  const value = load.value === undefined ? undefined : pick(load.value);
  if (load.state === "ready") return { state: "ready", value: value as U };
  if (load.state === "failed") return { state: "failed", error: load.error, value };
  return { state: "loading", value };
}
