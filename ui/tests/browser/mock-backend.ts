// Installs a fake of the desktop shell at Tauri's IPC layer (window.__TAURI_INTERNALS__, the
// same hooks `mockIPC` from @tauri-apps/api/mocks sets), so the app code runs unchanged.
import type { Page } from "@playwright/test";
import type {
  AppStatus,
  ContextList,
  Environment,
  ResourceDiff,
  SyncEvent,
  SyncResult,
} from "../../src/backend/bindings";

export interface Scenario {
  environment: Environment;
  contexts: ContextList;
  before: AppStatus;
  after: AppStatus;
  diffs: Record<string, ResourceDiff>;
  syncEvents: SyncEvent[];
  syncResult: SyncResult;
}

export async function installMockBackend(page: Page, scenario: Scenario): Promise<void> {
  await page.addInitScript((s: Scenario) => {
    type Callback = (data: unknown) => void;
    const callbacks = new Map<number, Callback>();
    let nextId = 1;
    let synced = false;
    const apps = [s.before.app];
    const calls: string[] = [];
    (window as unknown as { __calls: string[] }).__calls = calls;
    const keyOf = (k: { group: string; kind: string; namespace: string; name: string }) =>
      `${k.group}/${k.kind}/${k.namespace}/${k.name}`;
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    async function invoke(cmd: string, args: Record<string, unknown>): Promise<unknown> {
      calls.push(cmd);
      switch (cmd) {
        case "environment":
          return s.environment;
        case "list_contexts":
          return s.contexts;
        case "list_apps":
          return apps;
        case "add_app": {
          const app = args.app as (typeof apps)[number];
          if (!/^[a-z0-9-]+$/.test(app.name))
            throw {
              code: "Invalid",
              message: `application "${app.name}": name must be lower-case letters, digits and '-', at most 63 characters`,
              detail: null,
            };
          apps.push(app);
          return null;
        }
        case "app_status": {
          const added = apps.find((a) => a.name === args.name && a !== s.before.app);
          if (added) return { ...s.after, app: added, resources: [] };
          if (args.name !== s.before.app.name)
            throw { code: "NotFound", message: `no application named "${String(args.name)}"`, detail: null };
          return synced ? s.after : s.before;
        }
        case "resource_diff": {
          const diff = s.diffs[keyOf(args.key as never)];
          if (!diff) throw { code: "NotFound", message: "no such resource", detail: "Refresh the application." };
          return synced ? { ...diff, lines: diff.lines.map((l) => ({ ...l, change: "Equal" })) } : diff;
        }
        case "sync_app": {
          const channel = args.onEvent as { id: number };
          let index = 0;
          for (const event of s.syncEvents) {
            await wait(60);
            callbacks.get(channel.id)?.({ message: event, index: index++ });
          }
          synced = true;
          return s.syncResult;
        }
        default:
          throw { code: "Internal", message: `unexpected command ${cmd}`, detail: null };
      }
    }

    Object.assign(window, {
      __TAURI_INTERNALS__: {
        invoke,
        transformCallback: (callback: Callback) => {
          const id = nextId++;
          callbacks.set(id, callback);
          return id;
        },
        unregisterCallback: (id: number) => callbacks.delete(id),
        runCallback: (id: number, data: unknown) => callbacks.get(id)?.(data),
        callbacks,
        metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
      },
    });
  }, scenario);
}
