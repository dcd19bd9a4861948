import { useState } from "react";
import type { AppSummary, Application, ContextList, RepoInfo } from "../backend";
import { StatusBadge } from "../components/StatusBadge";
import { HealthBadge } from "../components/HealthBadge";
import { ErrorNotice } from "../components/ErrorNotice";
import { describeAutomation, describeLastOperation, describeStale, shortSha } from "../format";
import type { Load } from "../useLoad";
import { AddApp } from "./AddApp";

function AppTile({ app, status, onOpen }: { app: Application; status: AppSummary | undefined; onOpen: () => void }) {
  const automation = describeAutomation(app);
  return (
    <li className={status?.stale ? "tile tile-stale" : "tile"}>
      <button type="button" className="tile-button" onClick={onOpen} aria-label={`Open ${app.name}`}>
        <span className="tile-name">{app.name}</span>
        <span className="tile-meta">
          {app.destination.context} · {app.destination.namespace}
        </span>
        <span className="tile-meta">
          {app.path || "."} @ {app.revision}
          {status?.commit && ` (${shortSha(status.commit.sha)})`}
        </span>
        <span className="tile-status">
          {status ? <StatusBadge status={status.sync} /> : <span className="skeleton">checking…</span>}
          {status?.health && <HealthBadge status={status.health} />}
          {automation && <span className="tag tag-auto">{automation}</span>}
        </span>
        <span className="tile-meta tile-last">
          {status?.lastOperation
            ? describeLastOperation(status.lastOperation)
            : status
              ? "never synced from Plumbline"
              : ""}
        </span>
        {status?.stale && (
          <span className="tile-stale-note" title={status.stale.reason}>
            {status.sync === "Unknown" ? "Not compared yet: " : "Last known state: "}
            {describeStale(status.stale)}
          </span>
        )}
        {status?.error && <span className="tile-error">{status.error.message}</span>}
      </button>
    </li>
  );
}

type Filters = { text: string; context: string; namespace: string; sync: string; health: string };
const NO_FILTERS: Filters = { text: "", context: "", namespace: "", sync: "", health: "" };

function matches(app: Application, value: AppSummary | undefined, f: Filters): boolean {
  const text = f.text.trim().toLowerCase();
  return (
    (!text || [app.name, app.repo, app.path, app.revision].some((s) => s.toLowerCase().includes(text))) &&
    (!f.context || app.destination.context === f.context) &&
    (!f.namespace || app.destination.namespace === f.namespace) &&
    (!f.sync || value?.sync === f.sync) &&
    (!f.health || (value?.health ?? "") === f.health)
  );
}

/** Rows = the same source (repository and path), columns = contexts; a cell whose commit differs
 * from the others in its row is marked, so drift between environments shows at a glance. */
function FleetMatrix({
  apps,
  statuses,
  onOpen,
}: {
  apps: Application[];
  statuses: Map<string, AppSummary>;
  onOpen: (name: string) => void;
}) {
  const contexts = [...new Set(apps.map((a) => a.destination.context))].sort();
  const rows = new Map<string, Application[]>();
  for (const app of apps) {
    const source = `${app.repo} · ${app.path || "."}`;
    rows.set(source, [...(rows.get(source) ?? []), app]);
  }
  return (
    <table className="fleet" aria-label="Fleet">
      <thead>
        <tr>
          <th>Source</th>
          {contexts.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {[...rows.entries()].map(([source, group]) => {
          const commits = group.map((a) => statuses.get(a.name)?.commit?.sha ?? "");
          const counts = new Map<string, number>();
          commits.forEach((c) => c && counts.set(c, (counts.get(c) ?? 0) + 1));
          const common = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
          return (
            <tr key={source}>
              <th scope="row">{source}</th>
              {contexts.map((context) => {
                const app = group.find((a) => a.destination.context === context);
                if (!app) return <td key={context} className="fleet-empty" />;
                const value = statuses.get(app.name);
                const sha = value?.commit?.sha ?? "";
                const differs = counts.size > 1 && sha !== common;
                return (
                  <td key={context} className={differs ? "fleet-differs" : undefined}>
                    <button
                      type="button"
                      className="link"
                      onClick={() => onOpen(app.name)}
                      aria-label={`Open ${app.name} on ${context}`}
                    >
                      {app.name}
                    </button>{" "}
                    {value ? <StatusBadge status={value.sync} /> : <span className="skeleton">…</span>}
                    {value?.health && <HealthBadge status={value.health} />}
                    {sha && (
                      <code title={differs ? "a different commit from the rest of this row" : undefined}>
                        {shortSha(sha)}
                        {differs && " ≠"}
                      </code>
                    )}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

interface OverviewProps {
  apps: Load<Application[]>;
  /** Each app's last known status, kept current by the engine. */
  summaries: Map<string, AppSummary>;
  contexts: ContextList | undefined;
  repos: RepoInfo[] | undefined;
  onOpenApp: (name: string) => void;
  onAppsChanged: () => void;
}

export function Overview({ apps, summaries: statuses, contexts, repos, onOpenApp, onAppsChanged }: OverviewProps) {
  const [adding, setAdding] = useState(false);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [fleet, setFleet] = useState(false);
  const all = apps.value ?? [];
  const shown = all.filter((a) => matches(a, statuses.get(a.name), filters));
  const choices = (values: string[]) => [...new Set(values)].sort();
  const select = (field: keyof Filters, label: string, options: string[]) => (
    <label className="filter">
      <span className="visually-hidden">{label}</span>
      <select
        aria-label={label}
        value={filters[field]}
        onChange={(e) => setFilters({ ...filters, [field]: e.target.value })}
      >
        <option value="">{label.replace("Filter by ", "Any ")}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section className="screen" aria-labelledby="overview-title">
      <header className="screen-header">
        <h1 id="overview-title">Applications</h1>
        <div className="screen-actions">
          <button type="button" aria-pressed={fleet} onClick={() => setFleet(!fleet)}>
            Fleet
          </button>
          {!adding && (
            <button type="button" className="primary" onClick={() => setAdding(true)}>
              Add application
            </button>
          )}
        </div>
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
      {all.length > 0 && (
        <div className="filters" role="search" aria-label="Filter applications">
          <input
            type="search"
            aria-label="Filter by text"
            placeholder="Filter by name, repository, path…"
            value={filters.text}
            onChange={(e) => setFilters({ ...filters, text: e.target.value })}
          />
          {select("context", "Filter by context", choices(all.map((a) => a.destination.context)))}
          {select("namespace", "Filter by namespace", choices(all.map((a) => a.destination.namespace)))}
          {select("sync", "Filter by sync", ["Synced", "OutOfSync", "Unknown"])}
          {select("health", "Filter by health", [
            "Healthy",
            "Progressing",
            "Degraded",
            "Suspended",
            "Missing",
            "Unknown",
          ])}
          {shown.length < all.length && (
            <span className="muted" role="status">
              {shown.length} of {all.length} shown{" "}
              <button type="button" className="link" onClick={() => setFilters(NO_FILTERS)}>
                Clear filters
              </button>
            </span>
          )}
        </div>
      )}
      {apps.state === "failed" && <ErrorNotice title="Applications could not be loaded." error={apps.error} />}
      {apps.value && apps.value.length === 0 && (
        <p className="empty">
          No applications yet. Use <strong>Add application</strong> to point Plumbline at a folder in a Git repository.
        </p>
      )}
      {fleet ? (
        <FleetMatrix apps={shown} statuses={statuses} onOpen={onOpenApp} />
      ) : (
        <ul className="tiles">
          {shown.map((app) => (
            <AppTile key={app.name} app={app} status={statuses.get(app.name)} onOpen={() => onOpenApp(app.name)} />
          ))}
        </ul>
      )}
    </section>
  );
}
