import { useState, type FormEvent } from "react";
import { useBackend } from "../backend/context";
import { toBackendError, type Application, type ErrorInfo, type Notifications } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../useLoad";

const DEFAULT_INTERVAL = 180;

/** Preferences: how often repositories are fetched, and which desktop notifications are wanted. */
export function Settings({ apps }: { apps: Application[] }) {
  const backend = useBackend();
  const [generation, setGeneration] = useState(0);
  const [settings] = useLoad(() => backend.getSettings(), `settings:${generation}`);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [intervalText, setIntervalText] = useState<string | null>(null);

  const act = async (action: () => Promise<void>, done: string) => {
    setError(null);
    setSaved(null);
    try {
      await action();
      setSaved(done);
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
    setGeneration((g) => g + 1);
  };

  const current = settings.value;
  const shownInterval = intervalText ?? String(current?.fetchIntervalSeconds ?? DEFAULT_INTERVAL);
  const saveInterval = (event: FormEvent) => {
    event.preventDefault();
    const seconds = Number(shownInterval);
    void act(async () => {
      await backend.setFetchInterval(seconds === DEFAULT_INTERVAL ? null : seconds);
      setIntervalText(null);
    }, `Repositories are fetched every ${seconds} seconds.`);
  };
  const notifications: Notifications = current?.notifications ?? { muted: false, mutedApps: [] };
  const setMuted = (change: Partial<Notifications>, done: string) =>
    void act(() => backend.setNotifications({ ...notifications, ...change }), done);

  return (
    <section className="screen" aria-labelledby="settings-title">
      <header className="screen-header">
        <h1 id="settings-title">Preferences</h1>
      </header>
      {settings.state === "failed" && <ErrorNotice title="Settings could not be read." error={settings.error} />}
      {error && <ErrorNotice title="The setting was not changed." error={error} />}
      {saved && (
        <p className="notice notice-ok" role="status">
          {saved}
        </p>
      )}
      <h2>Repositories</h2>
      <p className="screen-intro">
        While Plumbline runs, it fetches each repository on this interval (as Argo CD does, every 3 minutes unless you
        say otherwise), each at its own moment, and compares the applications on it. Refresh on an application fetches
        at once.
      </p>
      <form className="inline-form" onSubmit={saveInterval}>
        <label>
          Fetch every
          <input
            type="number"
            min={10}
            step={1}
            value={shownInterval}
            onChange={(e) => setIntervalText(e.target.value)}
            aria-label="Fetch interval in seconds"
          />
          seconds
        </label>
        <button type="submit" disabled={!current}>
          Save
        </button>
      </form>
      <h2>Notifications</h2>
      <p className="screen-intro">
        A desktop notification when an application goes out of sync, becomes degraded or missing, when a sync or an
        automated sync fails or automation syncs, and when a cluster stops answering or answers again. The activity list
        (the bell) keeps every one, muted or not.
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={!notifications.muted}
          disabled={!current}
          onChange={(e) =>
            setMuted(
              { muted: !e.target.checked },
              e.target.checked ? "Desktop notifications are on." : "Desktop notifications are off.",
            )
          }
        />
        Desktop notifications
      </label>
      <ul className="file-list" aria-label="Notifications per application">
        {apps.map((app) => {
          const muted = notifications.mutedApps.includes(app.name);
          return (
            <li key={app.name}>
              <label className="check">
                <input
                  type="checkbox"
                  checked={!muted}
                  disabled={!current || notifications.muted}
                  onChange={(e) =>
                    setMuted(
                      {
                        mutedApps: e.target.checked
                          ? notifications.mutedApps.filter((m) => m !== app.name)
                          : [...notifications.mutedApps, app.name],
                      },
                      e.target.checked ? `${app.name} notifies again.` : `${app.name} is muted.`,
                    )
                  }
                />
                Notify about {app.name}
              </label>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
