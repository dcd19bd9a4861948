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
protectedContexts: Array<string>, };

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

export type SourceOptions = { 
/**
 * `None`: detected from the files.
 */
type: SourceType | null, helm: HelmOptions, };

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
source: SourceOptions, };

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

export type ResourceSync = "Synced" | "OutOfSync" | "Missing" | "RequiresPruning";

export type ResourceStatus = { key: ResourceKey, apiVersion: string, status: ResourceSync, 
/**
 * The file in the repository that defines it, when desired.
 */
file: string | null, 
/**
 * Why the comparison fell back or what the server said.
 */
message: string | null, };

export type LineChange = "Equal" | "Delete" | "Insert";

export type DiffLine = { change: LineChange, oldLine: number | null, newLine: number | null, text: string, };

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

export type AppStatus = { app: Application, sync: SyncStatus, commit: Commit | null, resources: Array<ResourceStatus>, notes: Array<string>, error: ErrorInfo | null, };

export type ResultStatus = "Synced" | "SyncFailed" | "Skipped";

export type ResourceResult = { key: ResourceKey, status: ResultStatus, message: string, };

export type OperationPhase = "Succeeded" | "Failed";

export type SyncResult = { phase: OperationPhase, commit: Commit, results: Array<ResourceResult>, message: string, };

export type SyncEvent = { "type": "planned", resources: Array<ResourceKey>, } | { "type": "dryRun", key: ResourceKey, } | { "type": "applying", key: ResourceKey, } | { "type": "done", result: ResourceResult, };

export type Environment = { 
/**
 * True when the app runs against the built-in demo sandbox.
 */
demo: boolean, dataDir: string, logDir: string, version: string, };
