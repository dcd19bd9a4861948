// The one door to the desktop shell: every invoke and channel lives here, behind the
// `Backend` interface, so screens never import Tauri and tests can hand in a fake.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  Activity,
  AppStatus,
  AppSummary,
  AppView,
  Application,
  CommitInfo,
  ContextList,
  ContextState,
  Environment,
  ErrorInfo,
  FetchOutcome,
  ImportedApp,
  LogOptions,
  RepoConfig,
  RepoInfo,
  Refs,
  ResourceDiff,
  SecretKind,
  Settings,
  TransferProgress,
  ResourceKey,
  SyncEvent,
  SyncOptions,
  SyncPlan,
  SyncResult,
  HistoryEntry,
  EventInfo,
  EngineEvent,
  Notifications,
} from "./bindings";

export type * from "./bindings";

export interface Backend {
  environment(): Promise<Environment>;
  listContexts(): Promise<ContextList>;
  listApps(): Promise<Application[]>;
  addApp(app: Application): Promise<void>;
  /** Replaces the application of the same name. */
  updateApp(app: Application): Promise<void>;
  /** Removes the application and its history; its resources stay in the cluster. */
  removeApp(name: string): Promise<void>;
  /** Reads an Argo CD `Application` manifest into an application to review; adds nothing. */
  importArgocdApp(manifest: string): Promise<ImportedApp>;
  /** The application as an Argo CD `Application` manifest. */
  exportArgocdApp(name: string): Promise<string>;
  appStatus(name: string): Promise<AppStatus>;
  /** Every application's last known status, for the first paint; changes come as events. */
  appSummaries(): Promise<AppSummary[]>;
  /** The recent transitions, newest first. */
  recentActivity(): Promise<Activity[]>;
  /** Fetches the app's repository now and compares it again. */
  refreshApp(name: string): Promise<AppStatus>;
  setNotifications(notifications: Notifications): Promise<void>;
  /** Seconds between fetches of each repository; null for the default (3 minutes). */
  setFetchInterval(seconds: number | null): Promise<void>;
  /** Calls `callback` with each event of the engine (statuses, contexts, activity). */
  onEngineEvent(callback: (event: EngineEvent) => void): Promise<() => void>;
  /** Calls `callback` when the window missed events and should read every status again. */
  onEngineLagged(callback: () => void): Promise<() => void>;
  /** Calls `callback` when a desktop notification about an app was clicked. */
  onOpenApp(callback: (name: string) => void): Promise<() => void>;
  /** The status and the resource tree from one comparison, for the graph views. */
  appView(name: string): Promise<AppView>;
  resourceDiff(name: string, key: ResourceKey): Promise<ResourceDiff>;
  /** What a sync with `options` would do; changes nothing. */
  planSync(name: string, options: SyncOptions): Promise<SyncPlan>;
  /** `confirmation` is the context's name as typed, for a protected context. */
  syncApp(
    name: string,
    options: SyncOptions,
    confirmation: string | null,
    onEvent: (event: SyncEvent) => void,
  ): Promise<SyncResult>;
  /** Syncs the commit of history entry `id`. */
  rollbackApp(
    name: string,
    id: number,
    confirmation: string | null,
    onEvent: (event: SyncEvent) => void,
  ): Promise<SyncResult>;
  appHistory(name: string): Promise<HistoryEntry[]>;
  /** Calls `onChange` whenever the app's status or objects change; returns how to stop. */
  watchApp(name: string, onChange: () => void): Promise<() => void>;
  /** The app's resources and what the cluster made from them. */
  /** The cluster's Events about one resource of the app, newest first. */
  resourceEvents(name: string, key: ResourceKey): Promise<EventInfo[]>;
  /** The containers of one of the app's Pods. */
  podContainers(name: string, pod: ResourceKey): Promise<string[]>;
  /** Streams a Pod's log a line at a time; resolves when it ends or `stopLogs` stops it. */
  streamLogs(name: string, pod: ResourceKey, options: LogOptions, onLine: (line: string) => void): Promise<void>;
  stopLogs(name: string): Promise<void>;
  /** What changed in Git between two history entries. */
  historyDiff(name: string, from: number, to: number): Promise<ResourceDiff[]>;
  probeContext(name: string): Promise<ContextState>;
  listNamespaces(context: string): Promise<string[]>;
  protectContext(name: string, isProtected: boolean): Promise<void>;
  getSettings(): Promise<Settings>;
  addKubeconfig(path: string): Promise<ContextList>;
  removeKubeconfig(path: string): Promise<ContextList>;
  /** Calls `callback` whenever the kubeconfig files change on disk; returns how to stop. */
  onContextsChanged(callback: () => void): Promise<() => void>;
  /** Calls `callback` whenever another process changes the applications, repositories or
   * settings (`plumbline` in a script); returns how to stop. */
  onStoreChanged(callback: () => void): Promise<() => void>;
  listRepos(): Promise<RepoInfo[]>;
  /** Adds a repository; `secret` (password, token or key passphrase) goes to the keyring. */
  addRepo(config: RepoConfig, secret: string | null): Promise<void>;
  updateRepo(config: RepoConfig): Promise<void>;
  removeRepo(url: string): Promise<void>;
  setRepoSecret(url: string, kind: SecretKind, value: string): Promise<void>;
  deleteRepoSecret(url: string, kind: SecretKind): Promise<void>;
  fetchRepo(url: string, onProgress: (progress: TransferProgress) => void): Promise<FetchOutcome>;
  cancelFetch(url: string): Promise<boolean>;
  acceptHostKey(host: string, port: number, key: string): Promise<void>;
  repoRefs(url: string): Promise<Refs>;
  repoHistory(url: string, revision: string, path: string, limit: number): Promise<CommitInfo[]>;
}

/** An error from the shell, carrying the engine's `{ code, message, detail }`. */
export class BackendError extends Error {
  readonly info: ErrorInfo;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = "BackendError";
    this.info = info;
  }
}

function isErrorInfo(value: unknown): value is ErrorInfo {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** Turns whatever a call threw into a `BackendError` with words a person can read. */
export function toBackendError(thrown: unknown): BackendError {
  if (thrown instanceof BackendError) return thrown;
  if (isErrorInfo(thrown)) return new BackendError(thrown);
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new BackendError({ code: "Internal", message, detail: null, hostKey: null });
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (thrown) {
    throw toBackendError(thrown);
  }
}

export const tauriBackend: Backend = {
  environment: () => call("environment"),
  listContexts: () => call("list_contexts"),
  listApps: () => call("list_apps"),
  addApp: (app) => call("add_app", { app }),
  updateApp: (app) => call("update_app", { app }),
  removeApp: (name) => call("remove_app", { name }),
  importArgocdApp: (manifest) => call("import_argocd_app", { manifest }),
  exportArgocdApp: (name) => call("export_argocd_app", { name }),
  appStatus: (name) => call("app_status", { name }),
  appSummaries: () => call("app_summaries"),
  recentActivity: () => call("recent_activity"),
  refreshApp: (name) => call("refresh_app", { name }),
  setNotifications: (notifications) => call("set_notifications", { notifications }),
  setFetchInterval: (seconds) => call("set_fetch_interval", { seconds }),
  onEngineEvent: (callback) => listen<EngineEvent>("engine-event", (e) => callback(e.payload)),
  onEngineLagged: (callback) => listen("engine-lagged", () => callback()),
  onOpenApp: (callback) => listen<string>("open-app", (e) => callback(e.payload)),
  appView: (name) => call("app_view", { name }),
  resourceDiff: (name, key) => call("resource_diff", { name, key }),
  planSync: (name, options) => call("plan_sync", { name, options }),
  syncApp: (name, options, confirmation, onEvent) => {
    const channel = new Channel<SyncEvent>();
    channel.onmessage = onEvent;
    return call("sync_app", { name, options, confirmation, onEvent: channel });
  },
  rollbackApp: (name, id, confirmation, onEvent) => {
    const channel = new Channel<SyncEvent>();
    channel.onmessage = onEvent;
    return call("rollback_app", { name, id, confirmation, onEvent: channel });
  },
  appHistory: (name) => call("app_history", { name }),
  resourceEvents: (name, key) => call("resource_events", { name, key }),
  podContainers: (name, pod) => call("pod_containers", { name, pod }),
  streamLogs: (name, pod, options, onLine) => {
    const channel = new Channel<string>();
    channel.onmessage = onLine;
    return call("stream_logs", { name, pod, options, onLine: channel });
  },
  stopLogs: (name) => call("stop_logs", { name }),
  watchApp: async (name, onChange) => {
    const channel = new Channel<null>();
    channel.onmessage = () => onChange();
    await call("watch_app", { name, onChange: channel });
    return () => void call("unwatch_app", { name }).catch(() => undefined);
  },
  historyDiff: (name, from, to) => call("history_diff", { name, from, to }),
  probeContext: (name) => call("probe_context", { name }),
  listNamespaces: (context) => call("list_namespaces", { context }),
  protectContext: (name, isProtected) => call("protect_context", { name, protected: isProtected }),
  getSettings: () => call("get_settings"),
  addKubeconfig: (path) => call("add_kubeconfig", { path }),
  removeKubeconfig: (path) => call("remove_kubeconfig", { path }),
  onContextsChanged: (callback) => listen("contexts-changed", () => callback()),
  onStoreChanged: (callback) => listen("store-changed", () => callback()),
  listRepos: () => call("list_repos"),
  addRepo: (config, secret) => call("add_repo", { config, secret }),
  updateRepo: (config) => call("update_repo", { config }),
  removeRepo: (url) => call("remove_repo", { url }),
  setRepoSecret: (url, kind, value) => call("set_repo_secret", { url, kind, value }),
  deleteRepoSecret: (url, kind) => call("delete_repo_secret", { url, kind }),
  fetchRepo: (url, onProgress) => {
    const channel = new Channel<TransferProgress>();
    channel.onmessage = onProgress;
    return call("fetch_repo", { url, onProgress: channel });
  },
  cancelFetch: (url) => call("cancel_fetch", { url }),
  acceptHostKey: (host, port, key) => call("accept_host_key", { host, port, key }),
  repoRefs: (url) => call("repo_refs", { url }),
  repoHistory: (url, revision, path, limit) => call("repo_history", { url, revision, path, limit }),
};
