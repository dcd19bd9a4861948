// Generated from the Rust types in crates/plumbline-core by `make bindings`. Do not edit.

export type ErrorCode = "NotFound" | "Invalid" | "Busy" | "Cluster" | "Repository" | "Manifest" | "Store" | "Internal";

export type ErrorInfo = { code: ErrorCode, message: string, detail: string | null, };

export type ContextInfo = { name: string, cluster: string, server: string | null, user: string, namespace: string | null, 
/**
 * The kubeconfig file that defined this context.
 */
file: string, 
/**
 * True for the merged `current-context`.
 */
current: boolean, };

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

export type Application = { name: string, 
/**
 * Local path of the Git repository.
 */
repo: string, 
/**
 * Branch, tag or commit.
 */
revision: string, 
/**
 * Folder inside the repository; empty or `.` for the root.
 */
path: string, destination: Destination, };

export type Commit = { sha: string, 
/**
 * First line of the commit message.
 */
summary: string, };

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
