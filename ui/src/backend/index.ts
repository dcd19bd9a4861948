// The one door to the desktop shell: every invoke and channel lives here, behind the
// `Backend` interface, so screens never import Tauri and tests can hand in a fake.
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  AppStatus,
  Application,
  ContextList,
  Environment,
  ErrorInfo,
  ResourceDiff,
  ResourceKey,
  SyncEvent,
  SyncResult,
} from "./bindings";

export type * from "./bindings";

export interface Backend {
  environment(): Promise<Environment>;
  listContexts(): Promise<ContextList>;
  listApps(): Promise<Application[]>;
  addApp(app: Application): Promise<void>;
  appStatus(name: string): Promise<AppStatus>;
  resourceDiff(name: string, key: ResourceKey): Promise<ResourceDiff>;
  syncApp(name: string, onEvent: (event: SyncEvent) => void): Promise<SyncResult>;
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
  return new BackendError({ code: "Internal", message, detail: null });
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
  appStatus: (name) => call("app_status", { name }),
  resourceDiff: (name, key) => call("resource_diff", { name, key }),
  syncApp: (name, onEvent) => {
    const channel = new Channel<SyncEvent>();
    channel.onmessage = onEvent;
    return call("sync_app", { name, onEvent: channel });
  },
};
