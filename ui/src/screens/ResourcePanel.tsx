import { useState } from "react";
import { useBackend } from "../backend/context";
import type { ResourceDiff, ResourceKey, ResourceStatus } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { HealthBadge } from "../components/HealthBadge";
import { StatusBadge } from "../components/StatusBadge";
import { resourceLabel } from "../format";
import { useLoad } from "../useLoad";
import { DiffView } from "./DiffView";

const TABS = ["Summary", "Live", "Desired", "Diff", "Events"] as const;
type Tab = (typeof TABS)[number];

/** One resource: what it is, its live and desired manifests (Secret values masked by the engine),
 * the diff, and the cluster's Events about it. */
export function ResourcePanel({
  app,
  resource,
  diff,
}: {
  app: string;
  resource: ResourceStatus;
  diff: ResourceDiff | undefined;
}) {
  const [tab, setTab] = useState<Tab>("Diff");
  const label = resourceLabel(resource.key);
  return (
    <section className="resource-panel" aria-label={`Resource ${label}`}>
      <div role="tablist" aria-label="Resource views" className="tabs">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`panel-${t}`}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "Summary" && (
          <dl className="summary">
            <dt>Kind</dt>
            <dd>
              {resource.key.kind} <span className="muted">{resource.apiVersion}</span>
            </dd>
            <dt>Name</dt>
            <dd>{resource.key.name}</dd>
            <dt>Namespace</dt>
            <dd>{resource.key.namespace || "— (cluster-scoped)"}</dd>
            <dt>Sync</dt>
            <dd>
              <StatusBadge status={resource.status} />
              {resource.message && <div className="resource-message">{resource.message}</div>}
            </dd>
            <dt>Health</dt>
            <dd>
              {resource.health ? (
                <>
                  <HealthBadge status={resource.health.status} /> {resource.health.message}
                </>
              ) : (
                "no health rule for this kind"
              )}
            </dd>
            <dt>Defined in</dt>
            <dd>{resource.file ?? "— (no longer in Git)"}</dd>
          </dl>
        )}
        {(tab === "Live" || tab === "Desired") &&
          (diff ? (
            <pre className="manifest" aria-label={`${tab} manifest`}>
              {(tab === "Live" ? diff.live : diff.desired) ||
                (tab === "Live" ? "Not in the cluster." : "Not in Git: it will be pruned.")}
            </pre>
          ) : (
            <p className="skeleton">loading…</p>
          ))}
        {tab === "Diff" && diff && <DiffView diff={diff} />}
        {tab === "Events" && <EventsView app={app} resourceKey={resource.key} />}
      </div>
    </section>
  );
}

/** The cluster's Events about one resource, newest first, warnings marked. */
export function EventsView({ app, resourceKey }: { app: string; resourceKey: ResourceKey }) {
  const backend = useBackend();
  const [events] = useLoad(() => backend.resourceEvents(app, resourceKey), `${app}:${resourceLabel(resourceKey)}`);
  return (
    <>
      {events.state === "failed" && <ErrorNotice title="Events could not be read." error={events.error} />}
      {events.value && events.value.length === 0 && <p className="empty">No events about this resource.</p>}
      {events.value && events.value.length > 0 && (
        <table className="events" aria-label="Events">
          <thead>
            <tr>
              <th>Type</th>
              <th>Reason</th>
              <th>Message</th>
              <th>Count</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {events.value.map((e, i) => (
              <tr key={i} className={e.type === "Warning" ? "event-warning" : undefined}>
                <td>{e.type}</td>
                <td>{e.reason}</td>
                <td>{e.message}</td>
                <td>{e.count}</td>
                <td>{e.lastSeen ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
