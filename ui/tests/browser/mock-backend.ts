// Installs a fake of the desktop shell at Tauri's IPC layer (window.__TAURI_INTERNALS__, the
// same hooks `mockIPC` from @tauri-apps/api/mocks sets), so the app code runs unchanged.
import type { Page } from "@playwright/test";
import type {
  AppStatus,
  ContextList,
  Environment,
  ResourceDiff,
  SyncEvent,
  SyncPlan,
  SyncResult,
  HistoryEntry,
} from "../../src/backend/bindings";

export interface Scenario {
  environment: Environment;
  contexts: ContextList;
  before: AppStatus;
  after: AppStatus;
  diffs: Record<string, ResourceDiff>;
  plan: SyncPlan;
  /** More applications, each with its own status (for the overview and the fleet). */
  fleet?: AppStatus[];
  history: HistoryEntry[];
  syncEvents: SyncEvent[];
  syncResult: SyncResult;
  /** The destination namespace is not in the cluster: plans say so, and a sync without
   * Create namespace stops, as the engine's do. */
  missingNamespace?: string;
}

export async function installMockBackend(page: Page, scenario: Scenario): Promise<void> {
  await page.addInitScript((s: Scenario) => {
    type Callback = (data: unknown) => void;
    const callbacks = new Map<number, Callback>();
    // Every handler listening to each event, as Tauri keeps them (several screens may listen).
    const listeners = new Map<string, Set<number>>();
    let nextId = 1;
    let synced = false;
    let stopped = false;
    const apps = [s.before.app, ...(s.fleet ?? []).map((f) => f.app)];
    const calls: string[] = [];
    (window as unknown as { __calls: string[] }).__calls = calls;
    // Another process (a script) adding an application to the store file.
    Object.assign(window, {
      __addedElsewhere: (name: string) => apps.push({ ...s.before.app, name }),
    });
    const keyOf = (k: { group: string; kind: string; namespace: string; name: string }) =>
      `${k.group}/${k.kind}/${k.namespace}/${k.name}`;
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // Repositories behind a pretend Git server: HTTPS wants the password "s3cret"; an SSH
    // server's host key must be accepted first. Secrets stay in `keyring` and never come back.
    type Repo = { url: string; auth: { method: string }; cloned: boolean; lastError: string | null };
    const repos: Repo[] = [];
    const keyring = new Map<string, string>();
    const acceptedHosts = new Set<string>();
    const cancelled = new Set<string>();
    (window as unknown as { __keyring: Map<string, string> }).__keyring = keyring;
    const repoInfo = (r: Repo) => ({
      ...r,
      hasPassword: keyring.has(`password ${r.url}`),
      hasKeyPassphrase: keyring.has(`keyPassphrase ${r.url}`),
    });
    const findRepo = (url: unknown) => {
      const repo = repos.find((r) => r.url === url);
      if (!repo)
        throw { code: "NotFound", message: `no repository ${String(url)} has been added`, detail: null, hostKey: null };
      return repo;
    };

    // Contexts: "plumbline-demo" answers, "prod" refuses the credentials; protection and added
    // kubeconfig files are kept as the shell keeps them.
    const contexts = structuredClone(s.contexts);
    const kubeconfigFiles: string[] = [];
    const settings = {
      fetchIntervalSeconds: null as number | null,
      notifications: { muted: false, mutedApps: [] as string[] },
    };
    const contextNamed = (name: unknown) => contexts.contexts.find((c) => c.name === name);

    // What the cluster made from the app's resources, as the engine's tree gives it.
    function treeNodes() {
      const status = synced ? s.after : s.before;
      const node = (
        key: { group: string; kind: string; namespace: string; name: string },
        parent: unknown,
        health: unknown,
      ) => ({
        key,
        apiVersion: key.group ? `${key.group}/v1` : "v1",
        parent,
        sync: null,
        health,
        routesTo: [],
      });
      const keyOfKind = (kind: string) => {
        const found = status.resources.find((r) => r.key.kind === kind);
        if (!found) throw { code: "Internal", message: `the scenario has no ${kind}`, detail: null };
        return found.key;
      };
      const deployment = keyOfKind("Deployment");
      const service = keyOfKind("Service");
      const rs = { group: "apps", kind: "ReplicaSet", namespace: "guestbook", name: "guestbook-ui-5d59d67564" };
      const pods = [1, 2, 3, 4, 5].map((i) =>
        node({ group: "", kind: "Pod", namespace: "guestbook", name: `guestbook-ui-5d59d67564-p${i}` }, rs, {
          status: i === 5 ? "Progressing" : "Healthy",
          message: "",
        }),
      );
      return [
        ...status.resources.map((r) => ({
          key: r.key,
          apiVersion: r.apiVersion,
          parent: null,
          sync: r.status,
          health: r.health,
          routesTo: r.key.kind === "Service" ? pods.map((p) => p.key) : [],
        })),
        node(rs, deployment, { status: "Healthy", message: "" }),
        ...pods,
        node({ ...service, kind: "Endpoints" }, service, null),
      ];
    }

    /** An app's status as the engine would compare it now. */
    function statusOf(name: unknown): AppStatus {
      const other = (s.fleet ?? []).find((f) => f.app.name === name);
      if (other) return other;
      const added = apps.find((a) => a.name === name && a !== s.before.app);
      // (apps from the fleet answered above)
      if (added) return { ...s.after, app: added, resources: [] };
      if (name !== s.before.app.name)
        throw { code: "NotFound", message: `no application named "${String(name)}"`, detail: null };
      const stored = apps.find((a) => a.name === name) ?? s.before.app;
      return { ...(synced ? s.after : s.before), app: stored };
    }

    function summaryOf(status: AppStatus) {
      return {
        app: status.app,
        sync: status.sync,
        health: status.health,
        commit: status.commit,
        error: status.error,
        lastOperation: status.lastOperation,
        stale: status.stale,
        outOfSync: status.resources.filter((r) => r.status !== "Synced").length,
        resources: status.resources.length,
      };
    }

    /** What the shell forwards when the engine's status of `name` changes. */
    function tellStatus(name: string) {
      const payload = { type: "status", status: summaryOf(statusOf(name)) };
      for (const handler of listeners.get("engine-event") ?? [])
        callbacks.get(handler)?.({ event: "engine-event", id: handler, payload });
    }

    async function invoke(cmd: string, args: Record<string, unknown>): Promise<unknown> {
      calls.push(cmd);
      switch (cmd) {
        case "plugin:event|listen": {
          // Events the shell emits: tests raise them with window.__emit(event, payload).
          const handlers = listeners.get(String(args.event)) ?? new Set<number>();
          handlers.add(args.handler as number);
          listeners.set(String(args.event), handlers);
          Object.assign(window, {
            __emit: (name: string, payload: unknown) => {
              for (const handler of listeners.get(name) ?? [])
                callbacks.get(handler)?.({ event: name, id: handler, payload });
            },
          });
          return args.handler;
        }
        case "plugin:event|unlisten":
          listeners.get(String(args.event))?.delete(args.eventId as number);
          return null;
        case "app_summaries": {
          // What the engine knows of every app: the scenario's statuses, as summaries.
          return apps.map((a) => summaryOf(statusOf(a.name)));
        }
        case "recent_activity":
          return [];
        case "refresh_app":
          return statusOf(args.name);
        case "set_notifications":
          settings.notifications = args.notifications as typeof settings.notifications;
          return null;
        case "set_fetch_interval":
          if (typeof args.seconds === "number" && args.seconds < 10)
            throw {
              code: "Invalid",
              message: `a fetch interval of ${args.seconds} s is too short: at least 10 s`,
              detail: null,
              hostKey: null,
            };
          settings.fetchIntervalSeconds = (args.seconds as number | null) ?? null;
          return null;
        case "probe_context": {
          const ctx = contextNamed(args.name);
          if (!ctx)
            return { state: "invalid", message: `context "${String(args.name)}" is not in any kubeconfig file` };
          await wait(50);
          ctx.state =
            ctx.name === "prod"
              ? { state: "unauthorized", message: "Unauthorized" }
              : { state: "connected", version: "v1.32.0-sandbox" };
          return ctx.state;
        }
        case "list_namespaces":
          return ["default", "guestbook", "kube-system"];
        case "protect_context": {
          const ctx = contextNamed(args.name);
          if (ctx) ctx.protected = Boolean(args.protected);
          return null;
        }
        case "get_settings":
          return {
            kubeconfigFiles: [...kubeconfigFiles],
            protectedContexts: contexts.contexts.filter((c) => c.protected).map((c) => c.name),
            fetchIntervalSeconds: settings.fetchIntervalSeconds,
            notifications: structuredClone(settings.notifications),
          };
        case "add_kubeconfig": {
          const path = String(args.path);
          kubeconfigFiles.push(path);
          contexts.contexts.push({
            name: "staging",
            cluster: "staging",
            server: "https://10.0.0.2:6443",
            user: "staging",
            namespace: null,
            file: path,
            current: false,
            state: { state: "notConnected" },
            protected: false,
          });
          return contexts;
        }
        case "remove_kubeconfig": {
          kubeconfigFiles.splice(kubeconfigFiles.indexOf(String(args.path)), 1);
          contexts.contexts = contexts.contexts.filter((c) => c.file !== args.path);
          return contexts;
        }
        case "list_repos":
          return repos.map(repoInfo);
        case "add_repo": {
          const config = args.config as { url: string; auth: { method: string } };
          if (!/^(https?:\/\/|ssh:\/\/|git@)/.test(config.url))
            throw {
              code: "Invalid",
              message: `"${config.url}" is not a repository address: use https://host/path, ssh://user@host/path, user@host:path or file:///path`,
              detail: null,
              hostKey: null,
            };
          repos.push({ url: config.url, auth: config.auth, cloned: false, lastError: null });
          const kind = config.auth.method === "https" ? "password" : "keyPassphrase";
          if (args.secret) keyring.set(`${kind} ${config.url}`, String(args.secret));
          return null;
        }
        case "repo_refs":
          if (!findRepo(args.url).cloned)
            throw { code: "NotFound", message: "not cloned yet", detail: null, hostKey: null };
          return { branches: ["main", "release-1"], tags: ["v1.0.0"] };
        case "update_repo": {
          const config = args.config as { url: string; auth: { method: string } };
          findRepo(config.url).auth = config.auth;
          return null;
        }
        case "set_repo_secret":
          findRepo(args.url);
          keyring.set(`${String(args.kind)} ${String(args.url)}`, String(args.value));
          return null;
        case "delete_repo_secret":
          keyring.delete(`${String(args.kind)} ${String(args.url)}`);
          return null;
        case "remove_repo":
          repos.splice(repos.indexOf(findRepo(args.url)), 1);
          return null;
        case "accept_host_key":
          acceptedHosts.add(`${String(args.host)}:${String(args.port)}`);
          return null;
        case "cancel_fetch":
          cancelled.add(String(args.url));
          return true;
        case "fetch_repo": {
          const repo = findRepo(args.url);
          const fail = (error: { code: string; message: string; detail: string | null; hostKey: unknown }) => {
            repo.lastError = error.message;
            throw error;
          };
          if (repo.url.startsWith("ssh://") && !acceptedHosts.has("git.example.com:2222"))
            fail({
              code: "UnknownHostKey",
              message: "the SSH host key of git.example.com is not known yet",
              detail: "Compare the fingerprint with the one the server's owner publishes before you trust it.",
              hostKey: {
                host: "git.example.com",
                port: 2222,
                keyType: "ssh-ed25519",
                fingerprint: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
                key: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
              },
            });
          if (repo.auth.method === "https" && keyring.get(`password ${repo.url}`) !== "s3cret")
            fail({
              code: "NeedsCredentials",
              message: `${repo.url} needs credentials: the server refused the credentials`,
              detail: "Enter the password, token or key passphrase for this repository.",
              hostKey: null,
            });
          const channel = args.onProgress as { id: number };
          let index = 0;
          cancelled.delete(repo.url);
          for (const received of [0, 1200, 2400]) {
            // A "big" repository takes long enough to press Cancel.
            await wait(repo.url.includes("big") ? 1500 : 80);
            if (cancelled.has(repo.url))
              throw { code: "Cancelled", message: `fetching ${repo.url} was cancelled`, detail: null, hostKey: null };
            callbacks.get(channel.id)?.({
              message: { receivedObjects: received, totalObjects: 2400, receivedBytes: received * 100 },
              index: index++,
            });
          }
          const cloned = !repo.cloned;
          repo.cloned = true;
          repo.lastError = null;
          return { cloned, forcePushed: [] };
        }
        case "environment":
          return s.environment;
        case "list_contexts":
          return contexts;
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
        case "app_status":
          return statusOf(args.name);
        case "update_app": {
          const app = args.app as (typeof apps)[number];
          const index = apps.findIndex((a) => a.name === app.name);
          if (index < 0) throw { code: "NotFound", message: `no application named "${app.name}"`, detail: null };
          apps[index] = app;
          return null;
        }
        case "import_argocd_app": {
          const manifest = String(args.manifest);
          if (!manifest.includes("kind: Application"))
            throw {
              code: "Invalid",
              message: "the Argo CD Application could not be imported: this is not an Argo CD Application",
              detail: "Fix the manifest and import it again.",
            };
          return {
            app: {
              name: /name: (\S+)/.exec(manifest)?.[1] ?? "imported",
              repo: "https://github.com/team/deploy.git",
              revision: "v1.4.0",
              path: "apps/web",
              destination: { context: "", namespace: "web" },
              source: {
                type: null,
                helm: { releaseName: null, valuesFiles: [], values: "" },
                directory: {
                  recurse: false,
                  include: "",
                  exclude: "",
                  jsonnet: { extVars: [{ name: "env", value: "prod", code: false }], tlas: [], libs: ["lib"] },
                },
              },
              ignore: [
                {
                  group: "apps",
                  kind: "Deployment",
                  namespace: "",
                  name: "",
                  jsonPointers: ["/spec/replicas"],
                  managedFieldsManagers: [],
                },
              ],
              syncPolicy: { automated: { prune: true, selfHeal: false }, createNamespace: true },
            },
            notes: ['no kubeconfig context matches the destination "in-cluster": choose the context'],
          };
        }
        case "export_argocd_app": {
          const app = apps.find((a) => a.name === args.name);
          if (!app) throw { code: "NotFound", message: `no application named "${String(args.name)}"`, detail: null };
          return `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${app.name}\n  namespace: argocd\nspec:\n  source:\n    repoURL: ${app.repo}\n`;
        }
        case "remove_app": {
          const index = apps.findIndex((a) => a.name === args.name);
          if (index < 0)
            throw { code: "NotFound", message: `no application named "${String(args.name)}"`, detail: null };
          apps.splice(index, 1);
          return null;
        }
        case "resource_diff": {
          const diff = s.diffs[keyOf(args.key as never)];
          if (!diff) throw { code: "NotFound", message: "no such resource", detail: "Refresh the application." };
          return synced ? { ...diff, lines: diff.lines.map((l) => ({ ...l, change: "Equal" })) } : diff;
        }
        case "plan_sync": {
          const options = args.options as SyncPlan["options"];
          const steps = s.plan.steps.map((step) =>
            step.action === "PruneSkipped" && options.prune ? { ...step, action: "Prune", note: null } : step,
          );
          const ns = s.missingNamespace;
          if (ns && options.createNamespace)
            steps.unshift({
              ...steps[0],
              key: { group: "", kind: "Namespace", namespace: "", name: ns },
              action: "Create",
              hook: null,
              generateName: false,
              note: "the destination namespace, created because it was asked for",
            });
          return { ...s.plan, options, steps, missingNamespace: ns && !options.createNamespace ? ns : null };
        }
        case "watch_app": {
          // The test changes the "cluster" with window.__clusterChanged(): the app is then in
          // sync, and the shell pushes a notice down the channel.
          const channel = args.onChange as { id: number };
          Object.assign(window, {
            __clusterChanged: () => {
              synced = true;
              callbacks.get(channel.id)?.({ message: null, index: 0 });
              tellStatus(String(args.name));
            },
          });
          return null;
        }
        case "unwatch_app":
          return null;
        case "app_view":
          return {
            status: await invoke("app_status", args),
            tree: treeNodes(),
            treeError: null,
          };
        case "pod_containers":
          return ["web", "proxy"];
        case "stream_logs": {
          // Each container tells its start; a followed log adds a line every 100 ms until stopped.
          const channel = args.onLine as { id: number };
          const options = args.options as { container: string; previous: boolean; follow: boolean };
          (window as unknown as { __logOptions: unknown[] }).__logOptions ??= [];
          (window as unknown as { __logOptions: unknown[] }).__logOptions.push(options);
          const pod = (args.pod as { name: string }).name;
          if (options.previous)
            throw {
              code: "Cluster",
              message: `the log of Pod guestbook/${pod} could not be read: previous terminated container "${options.container}" in pod "${pod}" not found`,
              detail: null,
            };
          let index = 0;
          const send = (line: string) => callbacks.get(channel.id)?.({ message: line, index: index++ });
          for (const line of ["starting", "ready"]) send(`${options.container}: ${line}`);
          if (!options.follow) return null;
          stopped = false;
          for (let n = 1; !stopped && n < 600; n++) {
            await wait(100);
            if (!stopped) send(`${options.container}: served request ${n}`);
          }
          return null;
        }
        case "stop_logs":
          stopped = true;
          return null;
        case "resource_events":
          return keyOf(args.key as never) === "apps/Deployment/guestbook/guestbook-ui"
            ? [
                {
                  type: "Normal",
                  reason: "ScalingReplicaSet",
                  message: "Scaled up replica set guestbook-ui-5d59d67564 to 2",
                  count: 1,
                  lastSeen: "2026-11-26T10:00:01Z",
                  source: "deployment-controller",
                },
                {
                  type: "Warning",
                  reason: "ProgressDeadlineExceeded",
                  message: "ReplicaSet has timed out progressing",
                  count: 3,
                  lastSeen: "2026-11-26T10:05:00Z",
                  source: "deployment-controller",
                },
              ]
            : [];
        case "app_history":
          return s.history;
        case "history_diff":
          return args.from === 1 && args.to === 2 ? [s.diffs["/ConfigMap/guestbook/guestbook-config"]] : [];
        case "rollback_app": {
          (window as unknown as { __rollback: unknown }).__rollback = args.id;
          const channel = args.onEvent as { id: number };
          callbacks.get(channel.id)?.({ message: s.syncEvents[0], index: 0 });
          await wait(60);
          synced = true;
          return { ...s.syncResult, message: "3 of 3 resources synced to 1a2b3c4" };
        }
        case "sync_app": {
          (window as unknown as { __syncOptions: unknown }).__syncOptions = args.options;
          const ns = s.missingNamespace;
          if (ns && !(args.options as SyncPlan["options"]).createNamespace)
            return {
              ...s.syncResult,
              phase: "Failed",
              results: [],
              message: `the namespace "${ns}" does not exist on context "plumbline-demo"; nothing was changed. Sync with Create namespace to create it`,
              missingNamespace: ns,
            };
          const target = contextNamed(s.before.app.destination.context);
          if (target?.protected && args.confirmation !== target.name)
            throw {
              code: "ConfirmationRequired",
              message: `context "${target.name}" is protected: type its name to confirm that a sync may change it`,
              detail: null,
              hostKey: null,
            };
          const channel = args.onEvent as { id: number };
          let index = 0;
          for (const event of s.syncEvents) {
            await wait(60);
            callbacks.get(channel.id)?.({ message: event, index: index++ });
          }
          synced = true;
          // The engine compares again after a sync, and every tile hears of it.
          tellStatus(s.before.app.name);
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
