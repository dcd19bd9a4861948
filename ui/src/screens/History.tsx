import { useState } from "react";
import { useBackend } from "../backend/context";
import type { HistoryEntry, ResourceSync } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { resourceLabel, shortSha } from "../format";
import { useLoad } from "../useLoad";
import { DiffView } from "./DiffView";

const CHANGE_WORDS: Record<ResourceSync, string> = {
  Missing: "added",
  RequiresPruning: "removed",
  OutOfSync: "changed",
  Synced: "same",
  Unknown: "not readable",
};

function when(entry: HistoryEntry): string {
  return entry.startedAt.replace("T", " ").replace("Z", " UTC");
}

/**
 * Every sync and rollback of the app, newest first. Pick two to see what changed in Git
 * between them; roll back to any earlier one.
 */
export function History({
  name,
  refreshKey,
  busy,
  onRollback,
}: {
  name: string;
  refreshKey: string;
  busy: boolean;
  onRollback: (entry: HistoryEntry) => void;
}) {
  const backend = useBackend();
  const [history] = useLoad(() => backend.appHistory(name), `${name}:${refreshKey}`);
  const [picked, setPicked] = useState<number[]>([]);
  const [from, to] = [...picked].sort((a, b) => a - b);
  const comparing = picked.length === 2;
  const [changes] = useLoad(
    () => (comparing ? backend.historyDiff(name, from, to) : Promise.resolve(null)),
    `${name}:${from}:${to}`,
  );
  const pick = (id: number) =>
    setPicked(picked.includes(id) ? picked.filter((p) => p !== id) : [...picked.slice(-1), id]);
  const entries = history.value ?? [];
  const newest = entries[0]?.id;

  return (
    <section className="history" aria-label="History">
      <h2>History</h2>
      {history.state === "failed" && <ErrorNotice title="The history could not be read." error={history.error} />}
      {history.state !== "loading" && entries.length === 0 && <p className="empty">No syncs yet.</p>}
      {entries.length > 0 && (
        <table className="history-table" aria-label="Operations">
          <thead>
            <tr>
              <th>
                <span className="visually-hidden">Compare</span>
              </th>
              <th>#</th>
              <th>Operation</th>
              <th>Revision</th>
              <th>Started</th>
              <th>Result</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Compare #${entry.id}`}
                    checked={picked.includes(entry.id)}
                    onChange={() => pick(entry.id)}
                  />
                </td>
                <td>{entry.id}</td>
                <td>
                  {entry.kind === "Rollback" ? `Rollback to #${entry.rollbackOf ?? "?"}` : "Sync"}
                  {entry.options.prune && " · prune"}
                  {entry.options.resources.length > 0 && ` · ${entry.options.resources.length} resources`}
                  {entry.by && <div className="muted">by {entry.by}</div>}
                </td>
                <td>
                  {entry.revision} <code>{shortSha(entry.result.commit.sha)}</code>{" "}
                  <span className="muted">{entry.result.commit.summary}</span>
                </td>
                <td>{when(entry)}</td>
                <td>
                  <span className={`phase phase-${entry.result.phase}`}>{entry.result.phase}</span>
                  {entry.result.message && <div className="resource-message">{entry.result.message}</div>}
                </td>
                <td>
                  {entry.id !== newest && (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Roll back to #${entry.id}`}
                      onClick={() => onRollback(entry)}
                    >
                      Roll back
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries.length > 1 && !comparing && (
        <p className="muted">Tick two operations to see what changed in Git between them.</p>
      )}
      {comparing && (
        <div className="history-diff" aria-label={`Changes from #${from} to #${to}`} role="region">
          <h3>
            Changes in Git from #{from} to #{to}
          </h3>
          {changes.state === "failed" && (
            <ErrorNotice title="The two commits could not be compared." error={changes.error} />
          )}
          {changes.value && changes.value.length === 0 && <p className="empty">The two commits render the same.</p>}
          {changes.value?.map((d) => (
            <DiffView
              key={resourceLabel(d.key)}
              diff={d}
              title={`${resourceLabel(d.key)} (${CHANGE_WORDS[d.status]})`}
            />
          ))}
        </div>
      )}
    </section>
  );
}
