import { useBackend } from "../backend/context";
import { useState } from "react";
import type { Application, ContextList, RepoInfo } from "../backend";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorNotice } from "../components/ErrorNotice";
import { shortSha } from "../format";
import { useLoad, type Load } from "../useLoad";
import { AddApp } from "./AddApp";

function AppTile({ app, onOpen }: { app: Application; onOpen: () => void }) {
  const backend = useBackend();
  const [status] = useLoad(() => backend.appStatus(app.name), app.name);
  const value = status.value;
  return (
    <li className="tile">
      <button type="button" className="tile-button" onClick={onOpen} aria-label={`Open ${app.name}`}>
        <span className="tile-name">{app.name}</span>
        <span className="tile-meta">
          {app.destination.context} · {app.destination.namespace}
        </span>
        <span className="tile-meta">
          {app.path || "."} @ {app.revision}
          {value?.commit && ` (${shortSha(value.commit.sha)})`}
        </span>
        <span className="tile-status">
          {value ? <StatusBadge status={value.sync} /> : <span className="skeleton">checking…</span>}
        </span>
        {value?.error && <span className="tile-error">{value.error.message}</span>}
        {status.state === "failed" && <span className="tile-error">{status.error.message}</span>}
      </button>
    </li>
  );
}

interface OverviewProps {
  apps: Load<Application[]>;
  contexts: ContextList | undefined;
  repos: RepoInfo[] | undefined;
  onOpenApp: (name: string) => void;
  onAppsChanged: () => void;
}

export function Overview({ apps, contexts, repos, onOpenApp, onAppsChanged }: OverviewProps) {
  const [adding, setAdding] = useState(false);
  return (
    <section className="screen" aria-labelledby="overview-title">
      <header className="screen-header">
        <h1 id="overview-title">Applications</h1>
        {!adding && (
          <button type="button" onClick={() => setAdding(true)}>
            Add application
          </button>
        )}
      </header>
      {adding && (
        <AddApp
          contexts={contexts}
          repos={repos}
          onCancel={() => setAdding(false)}
          onAdded={(name) => {
            setAdding(false);
            onAppsChanged();
            onOpenApp(name);
          }}
        />
      )}
      {apps.state === "failed" && <ErrorNotice title="Applications could not be loaded." error={apps.error} />}
      {apps.value && apps.value.length === 0 && (
        <p className="empty">
          No applications yet. Use <strong>Add application</strong> to point Plumbline at a folder in a Git repository.
        </p>
      )}
      <ul className="tiles">
        {apps.value?.map((app) => (
          <AppTile key={app.name} app={app} onOpen={() => onOpenApp(app.name)} />
        ))}
      </ul>
    </section>
  );
}
