// Generated from the Rust types in crates/plumbline-core by `make bindings`. Do not edit.

export type ErrorCode = "NotFound" | "Invalid" | "Busy" | "Cluster" | "Repository" | "NeedsCredentials" | "UnknownHostKey" | "Cancelled" | "ConfirmationRequired" | "Manifest" | "Store" | "Internal";

export type ErrorInfo = { code: ErrorCode, message: string, detail: string | null, 
/**
 * With [`ErrorCode::UnknownHostKey`]: the key to show and, if the user trusts it, accept.
 */
hostKey: HostKeyPrompt | null, };

export type ContextState = { "state": "notConnected" } | { "state": "connected", version: string, } | { "state": "unreachable", message: string, } | { "state": "unauthorized", message: string, } | { "state": "tlsError", message: string, } | { "state": "invalid", message: string, };

export type ContextInfo = { name: string, cluster: string, server: string | null, user: string, namespace: string | null, 
/**
 * The kubeconfig file that defined this context.
 */
file: string, 
/**
 * True for the merged `current-context`.
 */
current: boolean, 
/**
 * What Plumbline last learned of the cluster.
 */
state: ContextState, 
/**
 * Sync, prune and rollback here ask the user to type the context's name.
 */
protected: boolean, };

export type Settings = { 
/**
 * Kubeconfig files read besides `KUBECONFIG` and `~/.kube/config`.
 */
kubeconfigFiles: Array<string>, 
/**
 * Contexts where sync, prune and rollback ask the user to type the context's name.
 */
protectedContexts: Array<string>, 
/**
 * How often each repository is fetched while Plumbline runs; none: every
 * [`DEFAULT_FETCH_INTERVAL`] seconds, as Argo CD.
 */
fetchIntervalSeconds: number | null, notifications: Notifications, };

export type KubeconfigProblem = { file: string, message: string, };

export type ContextList = { contexts: Array<ContextInfo>, problems: Array<KubeconfigProblem>, };

export type Destination = { 
/**
 * A kubeconfig context name.
 */
context: string, 
/**
 * Namespace for resources that do not name one.
 */
namespace: string, };

export type SourceType = "Directory" | "Kustomize" | "Helm";

export type HelmOptions = { releaseName: string | null, 
/**
 * Values files, relative to the chart folder.
 */
valuesFiles: Array<string>, 
/**
 * Inline values (YAML), applied after the files.
 */
values: string, };

export type JsonnetVar = { name: string, value: string, code: boolean, };

export type JsonnetOptions = { 
/**
 * External variables (`std.extVar`).
 */
extVars: Array<JsonnetVar>, 
/**
 * Top-level arguments, given to a file whose result is a function.
 */
tlas: Array<JsonnetVar>, 
/**
 * Library folders searched by imports, relative to the repository root.
 */
libs: Array<string>, };

export type DirectoryOptions = { 
/**
 * Read subfolders too (the default here; Argo CD's default is off).
 */
recurse: boolean, 
/**
 * Only files matching this glob, relative to the app's path (`*.yaml`, `{a.yaml,b.yaml}`,
 * `prod/**`); empty: every file.
 */
include: string, 
/**
 * Leave out files matching this glob.
 */
exclude: string, 
/**
 * External variables, top-level arguments and library paths for its `.jsonnet` files.
 */
jsonnet: JsonnetOptions, };

export type SourceOptions = { 
/**
 * `None`: detected from the files.
 */
type: SourceType | null, helm: HelmOptions, directory: DirectoryOptions, };

export type IgnoreRule = { 
/**
 * Empty matches any group (the core group is matched by "" only when `kind` is set).
 */
group: string, 
/**
 * Empty matches any kind.
 */
kind: string, namespace: string, name: string, 
/**
 * RFC 6901 pointers such as `/spec/replicas`.
 */
jsonPointers: Array<string>, 
/**
 * Field managers (`kube-controller-manager`, `kubectl-edit`, `hpa`…) whose fields are ignored.
 */
managedFieldsManagers: Array<string>, };

export type Automated = { 
/**
 * Automated syncs prune too.
 */
prune: boolean, 
/**
 * Sync again when the cluster drifts from a commit already synced.
 */
selfHeal: boolean, };

export type SyncPolicy = { 
/**
 * Sync by itself when the app is out of sync with a commit not yet synced; none: by hand.
 */
automated: Automated | null, 
/**
 * Every sync creates the destination namespace when it does not exist (Argo CD's
 * `CreateNamespace=true` sync option).
 */
createNamespace: boolean, };

export type Application = { name: string, 
/**
 * URL of an added repository, or the path of a local Git repository.
 */
repo: string, 
/**
 * Branch, tag or commit.
 */
revision: string, 
/**
 * Folder inside the repository; empty or `.` for the root.
 */
path: string, destination: Destination, 
/**
 * Source type and its parameters; by default detected from the files.
 */
source: SourceOptions, 
/**
 * Differences that do not count as drift (Argo CD's `ignoreDifferences`).
 */
ignore: Array<IgnoreRule>, 
/**
 * Manual (the default) or automated sync.
 */
syncPolicy: SyncPolicy, };

export type Commit = { sha: string, 
/**
 * First line of the commit message.
 */
summary: string, };

export type HostKeyPrompt = { host: string, port: number, keyType: string, fingerprint: string, 
/**
 * The public key, base64; sent back as is to accept it.
 */
key: string, };

export type RepoAuth = { "method": "none" } | { "method": "https", username: string, } | { "method": "sshKey", username: string, keyPath: string, } | { "method": "sshAgent", username: string, } | { "method": "credentialHelper" };

export type RepoConfig = { url: string, auth: RepoAuth, };

export type TransferProgress = { receivedObjects: number, totalObjects: number, receivedBytes: number, };

export type ForcePush = { branch: string, old: string, new: string, };

export type FetchOutcome = { 
/**
 * True when this was the first clone.
 */
cloned: boolean, forcePushed: Array<ForcePush>, };

export type RepoInfo = { url: string, auth: RepoAuth, hasPassword: boolean, hasKeyPassphrase: boolean, cloned: boolean, 
/**
 * Why the last fetch failed, when it did; the clone before it is still in use.
 */
lastError: string | null, };

export type CommitInfo = { sha: string, summary: string, author: string, 
/**
 * Seconds since the Unix epoch.
 */
time: number, };

export type Refs = { branches: Array<string>, tags: Array<string>, };

export type SecretKind = "password" | "keyPassphrase";

export type ResourceKey = { group: string, kind: string, namespace: string, name: string, };

export type SyncStatus = "Synced" | "OutOfSync" | "Unknown";

export type ResourceSync = "Synced" | "OutOfSync" | "Missing" | "RequiresPruning" | "Unknown";

export type HealthStatus = "Healthy" | "Suspended" | "Progressing" | "Missing" | "Degraded" | "Unknown";

export type Health = { status: HealthStatus, message: string, };

export type ResourceStatus = { key: ResourceKey, apiVersion: string, status: ResourceSync, 
/**
 * The file in the repository that defines it, when desired.
 */
file: string | null, 
/**
 * Why the comparison fell back or what the server said.
 */
message: string | null, 
/**
 * The live object's health (Missing when it is not in the cluster; none when no rule applies).
 */
health: Health | null, };

export type LineChange = "Equal" | "Delete" | "Insert";

export type Span = { start: number, end: number, };

export type DiffLine = { change: LineChange, oldLine: number | null, newLine: number | null, text: string, 
/**
 * The parts of a changed line that differ from its counterpart on the other side, as
 * `[start, end)` offsets in UTF-16 code units (as JavaScript indexes strings).
 */
emphasis: Array<Span>, };

export type DiffRow = { "type": "line", line: DiffLine, } | { "type": "gap", hidden: number, oldLine: number, newLine: number, };

export type SplitRow = { "type": "pair", left: DiffLine | null, right: DiffLine | null, } | { "type": "gap", hidden: number, oldLine: number, newLine: number, };

export type ResourceDiff = { key: ResourceKey, status: ResourceSync, 
/**
 * Live object as YAML (normalized, masked); empty when missing.
 */
live: string, 
/**
 * What the object will be after sync (normalized, masked); empty when it will be pruned.
 */
desired: string, lines: Array<DiffLine>, 
/**
 * Set when the diff is the fallback two-way diff, saying why.
 */
note: string | null, };

export type LastOperation = { kind: OperationKind, phase: OperationPhase, 
/**
 * RFC 3339; the start while it runs.
 */
at: string, commit: Commit, };

export type AppStatus = { app: Application, sync: SyncStatus, 
/**
 * The worst health of the app's live resources; none when no rule applies (or unknown).
 */
health: HealthStatus | null, commit: Commit | null, resources: Array<ResourceStatus>, notes: Array<string>, error: ErrorInfo | null, 
/**
 * The newest sync, automated sync or rollback, if any.
 */
lastOperation: LastOperation | null, 
/**
 * Set while the app's cluster does not answer: the rest is the last known state.
 */
stale: Stale | null, };

export type SyncPhase = "PreSync" | "Sync" | "PostSync" | "SyncFail";

export type HookDeletePolicy = "BeforeHookCreation" | "HookSucceeded" | "HookFailed";

export type SyncOptions = { 
/**
 * Delete resources the app tracks that are no longer in Git.
 */
prune: boolean, 
/**
 * Dry-run every step on the server and stop: nothing changes.
 */
dryRun: boolean, 
/**
 * Sync only these resources (all when empty). Hooks do not run in a selective sync.
 */
resources: Array<ResourceKey>, 
/**
 * Create the destination namespace when it does not exist.
 */
createNamespace: boolean, 
/**
 * Take fields that another field manager owns (server-side apply `force`).
 */
forceConflicts: boolean, 
/**
 * Seconds each group may take to become healthy, and each hook to finish; 300 when unset.
 */
timeout: number | null, };

export type SyncAction = "Create" | "Update" | "NoOp" | "Prune" | "PruneSkipped";

export type PlanStep = { key: ResourceKey, apiVersion: string, action: SyncAction, phase: SyncPhase, 
/**
 * Small integers in practice; a number in TypeScript.
 */
wave: number, 
/**
 * Set for hooks, with their delete policies.
 */
hook: Array<HookDeletePolicy> | null, 
/**
 * A hook the server names (`generateName`): `key.name` is the prefix, and each run
 * creates a new object named from it.
 */
generateName: boolean, 
/**
 * Why the step is as it is, when that is not obvious (a skipped prune, a moved namespace).
 */
note: string | null, };

export type SyncPlan = { commit: Commit, options: SyncOptions, steps: Array<PlanStep>, 
/**
 * The destination namespace, when it does not exist, resources go into it and nothing
 * creates it: the sync would fail. Create namespace (in the sync or the app's sync
 * policy) makes it.
 */
missingNamespace: string | null, };

export type ResultStatus = "Synced" | "SyncFailed" | "Pruned" | "PruneSkipped" | "Skipped";

export type ResourceResult = { key: ResourceKey, status: ResultStatus, message: string, phase: SyncPhase, 
/**
 * Small integers in practice; a number in TypeScript.
 */
wave: number, hook: boolean, };

export type OperationPhase = "Running" | "Succeeded" | "Failed" | "Interrupted";

export type SyncResult = { phase: OperationPhase, commit: Commit, results: Array<ResourceResult>, message: string, 
/**
 * What happened, line by line, with the time since the start.
 */
log: Array<string>, 
/**
 * The destination namespace, when the sync stopped because it does not exist: a sync
 * with Create namespace makes it.
 */
missingNamespace: string | null, };

export type SyncEvent = { "type": "planned", plan: SyncPlan, } | { "type": "dryRun", key: ResourceKey, } | { "type": "applying", key: ResourceKey, } | { "type": "waiting", keys: Array<ResourceKey>, 
/**
 * What it waits for, in words, with the names of hooks the server named.
 */
message: string, } | { "type": "done", result: ResourceResult, };

export type OperationKind = "Sync" | "AutoSync" | "Rollback";

export type HistoryEntry = { id: number, kind: OperationKind, 
/**
 * Who ran it: "the window", "the command line", "automation"…; none in older entries.
 */
by: string | null, 
/**
 * The revision as the application named it (branch, tag or commit).
 */
revision: string, 
/**
 * For a rollback, the entry it went back to.
 */
rollbackOf: number | null, 
/**
 * RFC 3339.
 */
startedAt: string, finishedAt: string | null, options: SyncOptions, result: SyncResult, };

export type AutoSync = { "outcome": "manual" } | { "outcome": "inSync" } | { "outcome": "held", reason: string, } | { "outcome": "ran", result: SyncResult, };

export type ImportedApp = { app: Application, notes: Array<string>, };

export type EventInfo = { 
/**
 * Normal or Warning.
 */
type: string, reason: string, message: string, count: number, 
/**
 * RFC 3339; the last time it happened.
 */
lastSeen: string | null, 
/**
 * Who reported it (a controller, the kubelet).
 */
source: string, };

export type LogOptions = { 
/**
 * Needed when the Pod has more than one container.
 */
container: string | null, 
/**
 * The container instance before the last restart.
 */
previous: boolean, 
/**
 * Keep reading as lines come, until stopped.
 */
follow: boolean, 
/**
 * Only the last lines; none: all.
 */
tailLines: number | null, };

export type TreeNode = { key: ResourceKey, apiVersion: string, 
/**
 * What this object belongs to; none for the application's own resources.
 */
parent: ResourceKey | null, 
/**
 * For the application's own resources: their sync status.
 */
sync: ResourceSync | null, health: Health | null, 
/**
 * Where traffic goes next: an Ingress's Services, a Service's Pods (nodes of this tree).
 */
routesTo: Array<ResourceKey>, };

export type AppView = { status: AppStatus, 
/**
 * Empty when the app could not be compared (the status says why) or the tree not read.
 */
tree: Array<TreeNode>, 
/**
 * Why the tree could not be read, when the comparison could.
 */
treeError: ErrorInfo | null, };

export type Stale = { 
/**
 * RFC 3339: when the cluster stopped answering.
 */
since: string, reason: string, };

export type AppSummary = { app: Application, sync: SyncStatus, health: HealthStatus | null, commit: Commit | null, 
/**
 * Why it could not be compared; none while its cluster is unreachable (`stale` says so).
 */
error: ErrorInfo | null, lastOperation: LastOperation | null, 
/**
 * Set while the app's cluster does not answer: what is shown is the last known state.
 */
stale: Stale | null, 
/**
 * How many of its resources are not synced (out of sync, missing, to prune).
 */
outOfSync: number, resources: number, };

export type ActivityKind = "OutOfSync" | "Synced" | "Degraded" | "Missing" | "Healthy" | "SyncFailed" | "AutoSynced" | "Unreachable" | "Reachable" | "FetchFailed";

export type Activity = { 
/**
 * Grows by one with each activity of this engine.
 */
id: number, 
/**
 * RFC 3339.
 */
at: string, kind: ActivityKind, app: string | null, context: string, 
/**
 * The sentence a notification or the activity list shows.
 */
message: string, };

export type EngineEvent = { "type": "status", status: AppSummary, } | { "type": "removed", app: string, } | { "type": "objects", app: string, } | { "type": "context", context: string, state: ContextState, } | { "type": "activity", activity: Activity, };

export type Notifications = { 
/**
 * No desktop notification at all.
 */
muted: boolean, 
/**
 * Applications whose transitions are not notified.
 */
mutedApps: Array<string>, };

export type Environment = { 
/**
 * True when the app runs against the built-in demo sandbox.
 */
demo: boolean, dataDir: string, logDir: string, version: string, };
