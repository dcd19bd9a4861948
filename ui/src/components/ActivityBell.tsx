import { useState } from "react";
import type { Activity } from "../backend";
import { clockTime } from "../format";

const KIND_TONE: Record<Activity["kind"], "bad" | "warn" | "ok"> = {
  OutOfSync: "warn",
  Synced: "ok",
  Degraded: "bad",
  Missing: "bad",
  Healthy: "ok",
  SyncFailed: "bad",
  AutoSynced: "ok",
  Unreachable: "bad",
  Reachable: "ok",
  FetchFailed: "bad",
};

/** The bell in the top bar: how many transitions came since it was last opened, and the list
 * of the recent ones with their times; an app's entry opens the app. */
export function ActivityBell({ activity, onOpenApp }: { activity: Activity[]; onOpenApp: (name: string) => void }) {
  const [open, setOpen] = useState(false);
  const [seen, setSeen] = useState(0);
  const newest = activity[0]?.id ?? 0;
  const unseen = activity.filter((a) => a.id > seen).length;
  const toggle = () => {
    if (!open) setSeen(newest);
    setOpen(!open);
  };
  return (
    <div className="activity">
      <button
        type="button"
        className="activity-bell"
        aria-expanded={open}
        aria-label={unseen ? `Activity, ${unseen} new` : "Activity"}
        onClick={toggle}
      >
        <span aria-hidden="true">🔔</span>
        {unseen > 0 && <span className="activity-count">{unseen}</span>}
      </button>
      {open && (
        <section className="activity-panel" aria-label="Recent activity">
          <h2>Activity</h2>
          {activity.length === 0 && <p className="muted">Nothing has happened since Plumbline started.</p>}
          <ol>
            {activity.map((a) => (
              <li key={a.id} className={`activity-${KIND_TONE[a.kind]}`}>
                <time dateTime={a.at}>{clockTime(a.at)}</time>{" "}
                {a.app ? (
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      setOpen(false);
                      onOpenApp(a.app ?? "");
                    }}
                  >
                    {a.message}
                  </button>
                ) : (
                  <span>{a.message}</span>
                )}
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}
