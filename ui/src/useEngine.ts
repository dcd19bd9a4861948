import { useEffect, useState } from "react";
import type { Activity, AppSummary, Backend } from "./backend";

/** How many activities the window keeps (the engine keeps as many). */
const KEPT = 200;

export interface EngineState {
  /** Every application's last known status, by name. */
  summaries: Map<string, AppSummary>;
  /** The recent transitions, newest first. */
  activity: Activity[];
}

/**
 * What the engine says while it keeps watching: the statuses of every application and the
 * recent activity, read once and then kept current by its events. Nothing here polls.
 * `onContext` hears when a context's state changed.
 */
export function useEngine(backend: Backend, onContext: () => void): EngineState {
  const [state, setState] = useState<EngineState>({ summaries: new Map(), activity: [] });
  useEffect(() => {
    let live = true;
    const stops: (() => void)[] = [];
    // The apps an event spoke of since the last read began: for those, the event is newer.
    let toldSince = new Set<string>();
    const readAll = () => {
      toldSince = new Set();
      void Promise.all([backend.appSummaries(), backend.recentActivity()]).then(
        ([summaries, activity]) =>
          live &&
          setState((current) => {
            const merged = new Map(summaries.map((s) => [s.app.name, s] as const));
            for (const name of toldSince) {
              const told = current.summaries.get(name);
              if (told) merged.set(name, told);
              else merged.delete(name);
            }
            return { summaries: merged, activity: merge(activity, current.activity) };
          }),
        () => undefined,
      );
    };
    const keep = (stop: () => void) => (live ? stops.push(stop) : stop());
    // Read everything once the events are heard, so that nothing said in between is lost.
    void backend
      .onEngineEvent((event) => {
        if (event.type === "context") {
          onContext();
          return;
        }
        if (event.type === "objects") return;
        if (event.type === "status") toldSince.add(event.status.app.name);
        if (event.type === "removed") toldSince.add(event.app);
        setState((current) => {
          if (event.type === "status") {
            const summaries = new Map(current.summaries).set(event.status.app.name, event.status);
            return { ...current, summaries };
          }
          if (event.type === "removed") {
            const summaries = new Map(current.summaries);
            summaries.delete(event.app);
            return { ...current, summaries };
          }
          return { ...current, activity: merge([event.activity], current.activity) };
        });
      })
      .then((stop) => {
        keep(stop);
        readAll();
      }, readAll);
    void backend.onEngineLagged(readAll).then(keep, () => undefined);
    return () => {
      live = false;
      stops.forEach((stop) => stop());
    };
    // `onContext` is a new closure on every render; what it does does not change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [backend]);
  return state;
}

/** Both lists as one, newest first, each activity once. */
function merge(a: Activity[], b: Activity[]): Activity[] {
  const byId = new Map<number, Activity>();
  for (const activity of [...a, ...b]) byId.set(activity.id, activity);
  return [...byId.values()].sort((x, y) => y.id - x.id).slice(0, KEPT);
}
