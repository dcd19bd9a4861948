import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useBackend } from "../backend/context";
import {
  toBackendError,
  type ErrorInfo,
  type ResourceKey,
  type ResourceResult,
  type SyncEvent,
  type Application,
  type AppStatus,
  type AppSummary,
  type AppView,
  type ContextList,
  type RepoInfo,
  type SyncOptions,
  type SyncResult,
} from "../backend";
import { StatusBadge } from "../components/StatusBadge";
import { HealthBadge } from "../components/HealthBadge";
import { ErrorNotice } from "../components/ErrorNotice";
import { describeAutomation, describeStale, keyId, resourceLabel, shortSha, summarizeResult } from "../format";
import { mapLoad, useLoad } from "../useLoad";
import { useSubscription } from "../useSubscription";
import { ResourcePanel } from "./ResourcePanel";
import { ChildPanel } from "./ChildPanel";
import { ResourceGraph } from "./ResourceGraph";
import { ResourceList } from "./ResourceList";
import { AddApp } from "./AddApp";
import { SyncPlan } from "./SyncPlan";
import { History } from "./History";

/** The least time between two refreshes of the page brought by changes in the cluster. */
const RELOAD_GAP_MS = 1000;

type Step = "waiting" | "dry-run" | "applying" | ResourceResult;

/** A sync or a rollback, run with the typed confirmation when the context asks for one. */
type Operation = (confirmation: string | null, onEvent: (event: SyncEvent) => void) => Promise<SyncResult>;

type SyncState =
  | { phase: "idle" }
  | { phase: "planning" }
  | { phase: "running"; steps: Map<string, { key: ResourceKey; step: Step }> }
  | { phase: "done"; result: SyncResult }
  | { phase: "error"; error: ErrorInfo };

function stepLabel(step: Step): string {
  if (step === "waiting") return "waiting";
  if (step === "dry-run") return "dry run…";
  if (step === "applying") return "applying…";
  return step.message;
}

export function AppPage({
  name,
  summary,
  action,
  contexts,
  repos,
  onChanged,
  onDeleted,
}: {
  name: string;
  /** The app's last known status, as the engine keeps it (tiles show the same). */
  summary?: AppSummary;
  /** Asked from the palette or a shortcut: open the sync plan or refresh (once per nonce). */
  action?: { kind: "sync" | "refresh"; nonce: number };
  contexts?: ContextList;
  repos?: RepoInfo[];
  onChanged?: () => void;
  onDeleted?: () => void;
}) {
  const backend = useBackend();
  // Each refresh reloads the status and, after it, the open diff.
  const [refreshes, setRefreshes] = useState(0);
  const reload = useCallback(() => setRefreshes((n) => n + 1), []);
  // Refresh fetches the repository first (a new commit shows at once), then compares again.
  const [fetching, setFetching] = useState(false);
  const [fetchError, setFetchError] = useState<ErrorInfo | null>(null);
  const refresh = () => {
    setFetching(true);
    setFetchError(null);
    backend
      .refreshApp(name)
      .catch((thrown: unknown) => setFetchError(toBackendError(thrown).info))
      .finally(() => {
        setFetching(false);
        reload();
      });
  };
  const [layout, setLayout] = useState<"list" | "tree" | "network">("list");
  const graphs = layout !== "list";
  // In the graph views one call brings the status and the tree, from one comparison.
  const [loaded] = useLoad<{ status: AppStatus; tree: AppView["tree"] | null; treeError: ErrorInfo | null }>(
    () =>
      graphs
        ? backend.appView(name)
        : backend.appStatus(name).then((status) => ({ status, tree: null, treeError: null })),
    `${name}:${graphs}:${refreshes}`,
  );
  const status = mapLoad(loaded, (v) => v.status);
  const tree = graphs ? (loaded.value?.tree ?? null) : null;
  const [selected, setSelected] = useState<ResourceKey | null>(null);
  const statusReady = status.state !== "loading";
  const [diff] = useLoad(
    () =>
      selected && statusReady && status.value?.resources.some((r) => keyId(r.key) === keyId(selected))
        ? backend.resourceDiff(name, selected)
        : Promise.resolve(null),
    `${name}:${selected ? keyId(selected) : ""}:${refreshes}:${statusReady}`,
  );
  const [sync, setSync] = useState<SyncState>({ phase: "idle" });
  const [showHistory, setShowHistory] = useState(false);
  const [settings, setSettings] = useState(false);
  // Changes in the cluster are pushed by the shell's watches; nothing here polls. A change
  // that arrives while a refresh runs is kept for one more refresh after it, and refreshes
  // come at most once a second: a busy cluster neither piles them up nor starves them, and the
  // page is never more than a second behind.
  const [changed, setChanged] = useState(false);
  const lastReload = useRef(0);
  // A refused watch is explained by the status (the cluster cannot be reached).
  useSubscription(() => backend.watchApp(name, () => setChanged(true)), name);
  useEffect(() => {
    if (!changed || loaded.state === "loading") return;
    const wait = Math.max(0, lastReload.current + RELOAD_GAP_MS - Date.now());
    const timer = setTimeout(() => {
      lastReload.current = Date.now();
      setChanged(false);
      reload();
    }, wait);
    return () => clearTimeout(timer);
  }, [changed, loaded.state, reload]);
  // A request from the palette or a shortcut is handled once, while rendering (React's way of
  // adjusting state to a new prop).
  const [handled, setHandled] = useState<number | undefined>(undefined);
  if (action && action.nonce !== handled) {
    setHandled(action.nonce);
    if (action.kind === "sync" && sync.phase !== "running") setSync({ phase: "planning" });
    if (action.kind === "refresh") refresh();
  }
  // The operation waiting for a protected context's name, to run again with it.
  const [pending, setPending] = useState<Operation | null>(null);

  const run = async (operation: Operation, confirmation: string | null = null) => {
    // Wrapped: a function given to a state setter would be called as an updater.
    setPending(() => operation);
    const steps = new Map<string, { key: ResourceKey; step: Step }>();
    setSync({ phase: "running", steps: new Map(steps) });
    try {
      const result = await operation(confirmation, (event) => {
        if (event.type === "planned")
          event.plan.steps.forEach(({ key }) => steps.set(keyId(key), { key, step: "waiting" }));
        else if (event.type === "dryRun") steps.set(keyId(event.key), { key: event.key, step: "dry-run" });
        else if (event.type === "applying") steps.set(keyId(event.key), { key: event.key, step: "applying" });
        else if (event.type === "done")
          steps.set(keyId(event.result.key), { key: event.result.key, step: event.result });
        setSync({ phase: "running", steps: new Map(steps) });
      });
      setSync({ phase: "done", result });
    } catch (thrown) {
      setSync({ phase: "error", error: toBackendError(thrown).info });
    }
    reload();
  };
  const startSync = (chosen: SyncOptions) =>
    run((confirmation, onEvent) => backend.syncApp(name, chosen, confirmation, onEvent));
  const rollback = (id: number) => run((confirmation, onEvent) => backend.rollbackApp(name, id, confirmation, onEvent));

  const app = status.value;
  const automation = app ? describeAutomation(app.app) : null;
  // The engine's word is newer than this page's last load: a cluster lost since shows at once.
  const stale = summary?.stale ?? app?.stale ?? null;
  const graphApp = useMemo(() => ({ name, sync: app?.sync, health: app?.health }), [name, app?.sync, app?.health]);
  const selectedStatus = selected ? app?.resources.find((r) => keyId(r.key) === keyId(selected)) : undefined;
  // Something the cluster made (from the graph): its own panel, with a Pod's log.
  const selectedChild = selected ? tree?.find((n) => keyId(n.key) === keyId(selected)) : undefined;
  const running = sync.phase === "running";
  return (
    <section className="screen app-page" aria-labelledby="app-title">
      <header className="app-header">
        <div>
          <h1 id="app-title">{name}</h1>
          {app && (
            <p className="app-meta">
              {app.app.destination.context} · {app.app.destination.namespace} · {app.app.path || "."} @{" "}
              {app.app.revision}
              {app.commit && (
                <>
                  {" "}
                  <code>{shortSha(app.commit.sha)}</code> {app.commit.summary}
                </>
              )}
            </p>
          )}
        </div>
        <div className="app-actions">
          {app ? <StatusBadge status={app.sync} /> : <span className="skeleton">checking…</span>}
          {app?.health && <HealthBadge status={app.health} />}
          {automation && <span className="tag tag-auto">{automation}</span>}
          <button type="button" aria-pressed={settings} onClick={() => setSettings(!settings)}>
            Settings
          </button>
          <button type="button" aria-pressed={showHistory} onClick={() => setShowHistory(!showHistory)}>
            History
          </button>
          <button type="button" onClick={refresh} disabled={fetching || status.state === "loading" || running}>
            {fetching || status.state === "loading" ? "Refreshing…" : "Refresh"}
          </button>
          <button
            type="button"
            className="primary"
            onClick={() => setSync({ phase: "planning" })}
            disabled={running || sync.phase === "planning" || !app || app.sync === "Unknown"}
          >
            {running ? "Syncing…" : "Sync"}
          </button>
        </div>
      </header>

      {stale && (
        <p className="notice notice-warning" role="status" aria-label="Stale">
          <strong>Last known state: {describeStale(stale)}.</strong> {stale.reason}. Plumbline shows what it knew and
          catches up by itself when the cluster answers again.
        </p>
      )}
      {fetchError && <ErrorNotice title="The repository could not be fetched." error={fetchError} />}
      {status.state === "failed" && <ErrorNotice title="Status could not be read." error={status.error} />}
      {app?.error && <ErrorNotice title="Plumbline cannot compare this application." error={app.error} />}
      {app?.notes.map((note) => (
        <p key={note} className="notice notice-info">
          {note}
        </p>
      ))}

      {settings && app && (
        <AppSettings
          app={app.app}
          contexts={contexts}
          repos={repos}
          onSaved={() => {
            setSettings(false);
            onChanged?.();
            reload();
          }}
          onDeleted={() => onDeleted?.()}
          onCancel={() => setSettings(false)}
        />
      )}
      {showHistory && (
        <History
          name={name}
          refreshKey={String(refreshes)}
          busy={running}
          onRollback={(entry) => void rollback(entry.id)}
        />
      )}
      {sync.phase === "planning" && (
        <SyncPlan
          name={name}
          createNamespace={app?.app.syncPolicy.createNamespace ?? false}
          onStart={(chosen) => void startSync(chosen)}
          onCancel={() => setSync({ phase: "idle" })}
        />
      )}
      {sync.phase === "running" && (
        <div className="sync-progress" role="status" aria-label="Sync progress">
          <h2>Syncing…</h2>
          <ol>
            {[...sync.steps.values()].map(({ key, step }) => (
              <li key={keyId(key)}>
                {typeof step === "object" ? (
                  <StatusBadge status={step.status} />
                ) : (
                  <span className="spinner" aria-hidden="true" />
                )}
                {resourceLabel(key)} <span className="muted">{stepLabel(step)}</span>
              </li>
            ))}
          </ol>
        </div>
      )}
      {sync.phase === "done" && (
        <div
          className={`notice ${sync.result.phase === "Succeeded" ? "notice-ok" : "notice-error"}`}
          role="status"
          aria-label="Sync result"
        >
          <strong>
            Sync {sync.result.phase === "Succeeded" ? "succeeded" : "failed"}: {summarizeResult(sync.result)}
          </strong>
          <p>{sync.result.message}</p>
          {sync.result.missingNamespace && (
            <button
              type="button"
              onClick={() =>
                void startSync({
                  prune: false,
                  dryRun: false,
                  forceConflicts: false,
                  resources: [],
                  createNamespace: true,
                  timeout: null,
                })
              }
            >
              Sync again, creating namespace {sync.result.missingNamespace}
            </button>
          )}
          <ul>
            {sync.result.results
              .filter((r) => r.status !== "Synced")
              .map((r) => (
                <li key={keyId(r.key)}>
                  {resourceLabel(r.key)}: {r.message}
                </li>
              ))}
          </ul>
        </div>
      )}
      {sync.phase === "error" && sync.error.code === "ConfirmationRequired" && app && (
        <ConfirmSync
          context={app.app.destination.context}
          onConfirm={(typed) => pending && void run(pending, typed)}
          onCancel={() => setSync({ phase: "idle" })}
        />
      )}
      {sync.phase === "error" && sync.error.code !== "ConfirmationRequired" && (
        <ErrorNotice title="Sync could not start." error={sync.error} />
      )}

      <div className={`app-body${layout === "list" ? "" : " app-body-graph"}`}>
        <div className="resources-view">
          <div className="view-switch" role="group" aria-label="Resources as">
            <button type="button" aria-pressed={layout === "list"} onClick={() => setLayout("list")}>
              List
            </button>
            <button type="button" aria-pressed={layout === "tree"} onClick={() => setLayout("tree")}>
              Tree
            </button>
            <button type="button" aria-pressed={layout === "network"} onClick={() => setLayout("network")}>
              Network
            </button>
          </div>
          {layout === "list" ? (
            <ResourceList
              resources={app?.resources ?? []}
              selected={selected}
              onSelect={setSelected}
              empty={app !== undefined && app.resources.length === 0 && !app.error}
            />
          ) : (
            <>
              {loaded.value?.treeError && (
                <ErrorNotice title="The tree could not be read." error={loaded.value.treeError} />
              )}
              {tree && (
                <ResourceGraph
                  view={layout}
                  app={graphApp}
                  nodes={tree}
                  onSelect={setSelected}
                  busy={loaded.state === "loading"}
                />
              )}
            </>
          )}
        </div>
        <div className="diff-panel">
          {!selected && <p className="empty">Select a resource to see its diff.</p>}
          {diff.state === "failed" && <ErrorNotice title="Diff could not be computed." error={diff.error} />}
          {selectedStatus && <ResourcePanel app={name} resource={selectedStatus} diff={diff.value ?? undefined} />}
          {!selectedStatus && selectedChild && (
            <ChildPanel key={keyId(selectedChild.key)} app={name} node={selectedChild} />
          )}
        </div>
      </div>
    </section>
  );
}

/** A protected context: the user types its name before anything changes there. */
function ConfirmSync({
  context,
  onConfirm,
  onCancel,
}: {
  context: string;
  onConfirm: (typed: string) => void;
  onCancel: () => void;
}) {
  const [typed, setTyped] = useState("");
  return (
    <form
      className="dialog"
      aria-label="Confirm sync"
      onSubmit={(e) => {
        e.preventDefault();
        onConfirm(typed);
      }}
    >
      <h3>{context} is a protected context.</h3>
      <label>
        Type <strong>{context}</strong> to sync there
        <input autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </label>
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={typed !== context}>
          Sync {context}
        </button>
      </div>
    </form>
  );
}

/** Edit the application, or delete it (its resources stay in the cluster). */
function AppSettings({
  app,
  contexts,
  repos,
  onSaved,
  onDeleted,
  onCancel,
}: {
  app: Application;
  contexts?: ContextList;
  repos?: RepoInfo[];
  onSaved: () => void;
  onDeleted: () => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const exportManifest = async () => {
    try {
      setExported(await backend.exportArgocdApp(app.name));
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
  };
  const remove = async () => {
    try {
      await backend.removeApp(app.name);
      onDeleted();
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
  };
  return (
    <section className="app-settings" aria-label="Application settings">
      <AddApp contexts={contexts} repos={repos} existing={app} onAdded={onSaved} onCancel={onCancel} />
      <div className="export-argocd">
        {exported === null ? (
          <button type="button" onClick={() => void exportManifest()}>
            Export as Argo CD Application
          </button>
        ) : (
          <label>
            Argo CD Application manifest: apply it with <code>kubectl apply -n argocd -f</code>
            <textarea readOnly rows={12} spellCheck={false} value={exported} onFocus={(e) => e.target.select()} />
          </label>
        )}
      </div>
      <div className="danger-zone">
        {confirming ? (
          <p>
            Delete <strong>{app.name}</strong> and its history from Plumbline? Its resources stay in the cluster.{" "}
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>{" "}
            <button type="button" className="danger" onClick={() => void remove()}>
              Delete {app.name}
            </button>
          </p>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete application…
          </button>
        )}
        {error && <ErrorNotice title="The application was not deleted." error={error} />}
      </div>
    </section>
  );
}
