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

/** A bell drawn as SVG: no emoji font needed (many Linux desktops have none). */
function BellIcon() {
  return (
    <svg className="bell-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path
        d="M8 1.5a1 1 0 0 1 1 1v.6a4.5 4.5 0 0 1 3.5 4.4v2.8l1.2 1.6a.6.6 0 0 1-.5 1H2.8a.6.6 0 0 1-.5-1l1.2-1.6V7.5A4.5 4.5 0 0 1 7 3.1v-.6a1 1 0 0 1 1-1Z"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.3"
        strokeLinejoin="round"
      />
      <path
        d="M6.3 13.8a1.8 1.8 0 0 0 3.4 0"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.3"
        strokeLinecap="round"
      />
    </svg>
  );
}

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
        <BellIcon />
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
