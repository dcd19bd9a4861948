// A demo-like application: a ConfigMap that drifted, a Deployment in sync, a missing Service.
import type { AppStatus, DiffLine, PlanStep, ResourceDiff, ResourceKey, SyncPlan } from "../../src/backend/bindings";
import type { Scenario } from "./mock-backend";

const app = {
  name: "guestbook",
  repo: "/data/demo/repo",
  revision: "main",
  path: "guestbook",
  destination: { context: "plumbline-demo", namespace: "guestbook" },
  source: {
    type: null,
    helm: { releaseName: null, valuesFiles: [], values: "" },
    directory: { recurse: true, include: "", exclude: "", jsonnet: { extVars: [], tlas: [], libs: [] } },
  },
  ignore: [],
  syncPolicy: { automated: null, createNamespace: false },
};

const inSync = { phase: "Sync", wave: 0, hook: false } as const;

const configMap: ResourceKey = { group: "", kind: "ConfigMap", namespace: "guestbook", name: "guestbook-config" };
const service: ResourceKey = { group: "", kind: "Service", namespace: "guestbook", name: "guestbook-ui" };
const deployment: ResourceKey = { group: "apps", kind: "Deployment", namespace: "guestbook", name: "guestbook-ui" };

/** Diff lines; a third element marks the changed part of a line, as the engine does. */
function lines(spec: [DiffLine["change"], string, string?][]): DiffLine[] {
  let oldLine = 0;
  let newLine = 0;
  return spec.map(([change, text, changedPart]) => {
    const start = changedPart ? text.indexOf(changedPart) : -1;
    return {
      change,
      text,
      oldLine: change === "Insert" ? null : ++oldLine,
      newLine: change === "Delete" ? null : ++newLine,
      emphasis: start >= 0 && changedPart ? [{ start, end: start + changedPart.length }] : [],
    };
  });
}

const configMapDiff: ResourceDiff = {
  key: configMap,
  status: "OutOfSync",
  live: "",
  desired: "",
  note: null,
  lines: lines([
    ["Equal", "apiVersion: v1"],
    ["Equal", "data:"],
    ["Delete", "  greeting: Hello, world"],
    ["Insert", "  greeting: Hello from Git"],
    ["Equal", "kind: ConfigMap"],
    ["Equal", "metadata:"],
    ["Equal", "  annotations:"],
    ["Equal", "    plumbline.dev/tracking-id: guestbook:/ConfigMap:guestbook/guestbook-config"],
    ["Equal", "  labels:"],
    ["Equal", "    app.kubernetes.io/name: guestbook"],
    ["Equal", "  name: guestbook-config"],
    ["Equal", "  namespace: guestbook"],
    ["Equal", "  extra-1: a"],
    ["Equal", "  extra-2: b"],
    ["Equal", "  extra-3: c"],
    ["Equal", "  extra-4: d"],
    ["Delete", "  theme: light", "light"],
    ["Insert", "  theme: dark", "dark"],
  ]),
};

const before: AppStatus = {
  app,
  sync: "OutOfSync",
  health: "Progressing",
  commit: { sha: "4f2a9c1d0e", summary: "Guestbook: add a Service, scale to 2, new greeting" },
  notes: [],
  error: null,
  lastOperation: null,
  stale: null,
  resources: [
    {
      key: configMap,
      apiVersion: "v1",
      status: "OutOfSync",
      file: "guestbook/configmap.yaml",
      message: null,
      health: null,
    },
    {
      key: service,
      apiVersion: "v1",
      status: "Missing",
      file: "guestbook/service.yaml",
      message: null,
      health: { status: "Missing", message: "not in the cluster" },
    },
    {
      key: deployment,
      apiVersion: "apps/v1",
      status: "Synced",
      file: "guestbook/deployment.yaml",
      message: 'Apply failed with 1 conflict: conflict with "kubectl-edit": .spec.replicas',
      health: {
        status: "Progressing",
        message: "Waiting for rollout to finish: 1 of 2 updated replicas are available",
      },
    },
  ],
};

const after: AppStatus = {
  ...before,
  sync: "Synced",
  health: "Healthy",
  resources: before.resources.map((r) => ({ ...r, status: "Synced", health: { status: "Healthy", message: "" } })),
  lastOperation: {
    kind: "Sync",
    phase: "Succeeded",
    at: new Date(Date.now() - 5 * 60_000).toISOString(),
    commit: before.commit ?? { sha: "", summary: "" },
  },
};

const oldConfig: ResourceKey = { group: "", kind: "ConfigMap", namespace: "guestbook", name: "old-config" };
const smokeTest: ResourceKey = { group: "batch", kind: "Job", namespace: "guestbook", name: "smoke-test-" };
const step = (key: ResourceKey, action: PlanStep["action"], extra: Partial<PlanStep> = {}): PlanStep => ({
  key,
  apiVersion: key.group ? `${key.group}/v1` : "v1",
  action,
  phase: "Sync",
  wave: 0,
  hook: null,
  generateName: false,
  note: null,
  ...extra,
});

/** The engine's plan for the demo app: an update, a create, a resource in sync, a prune the
 * user has not asked for, and a PostSync hook. */
const plan: SyncPlan = {
  commit: before.commit ?? { sha: "", summary: "" },
  options: {
    prune: false,
    dryRun: false,
    resources: [],
    createNamespace: false,
    forceConflicts: false,
    timeout: null,
  },
  steps: [
    step(configMap, "Update"),
    step(service, "Create"),
    step(deployment, "NoOp", { wave: 1 }),
    step(oldConfig, "PruneSkipped", { note: "no longer in Git; prune was not asked for" }),
    step(smokeTest, "Create", { phase: "PostSync", hook: ["BeforeHookCreation"], generateName: true }),
  ],
  missingNamespace: null,
};

export const demoScenario: Scenario = {
  environment: { demo: true, dataDir: "/data", logDir: "/data/logs", version: "0.1.0" },
  contexts: {
    contexts: [
      {
        name: "plumbline-demo",
        cluster: "plumbline-demo",
        server: "https://127.0.0.1:6443",
        user: "plumbline-demo",
        namespace: "default",
        file: "/data/demo/kubeconfig",
        current: true,
        state: { state: "notConnected" },
        protected: false,
      },
      {
        name: "prod",
        cluster: "prod",
        server: "https://10.0.0.1:6443",
        user: "prod-admin",
        namespace: null,
        file: "/home/me/.kube/config",
        current: false,
        state: { state: "notConnected" },
        protected: false,
      },
    ],
    problems: [],
  },
  before,
  after,
  diffs: {
    "/ConfigMap/guestbook/guestbook-config": configMapDiff,
  },
  plan,
  history: [2, 1].map((id) => ({
    id,
    kind: "Sync" as const,
    by: id === 2 ? "the command line" : null,
    revision: "main",
    rollbackOf: null,
    startedAt: `2026-11-2${id}T10:00:00Z`,
    finishedAt: `2026-11-2${id}T10:00:02Z`,
    options: plan.options,
    result: {
      phase: "Succeeded" as const,
      commit: { sha: id === 2 ? "4f2a9c1d0e" : "1a2b3c4d5e", summary: id === 2 ? "new greeting" : "first version" },
      results: [],
      message: "3 of 3 resources synced",
      log: [],
      missingNamespace: null,
    },
  })),
  syncEvents: [
    { type: "planned", plan },
    { type: "dryRun", key: configMap },
    { type: "dryRun", key: service },
    { type: "dryRun", key: deployment },
    { type: "applying", key: configMap },
    { type: "done", result: { key: configMap, status: "Synced", message: "created (server-side apply)", ...inSync } },
    { type: "applying", key: service },
    { type: "done", result: { key: service, status: "Synced", message: "created (server-side apply)", ...inSync } },
    { type: "applying", key: deployment },
    { type: "done", result: { key: deployment, status: "Synced", message: "created (server-side apply)", ...inSync } },
  ],
  syncResult: {
    phase: "Succeeded",
    commit: before.commit ?? { sha: "", summary: "" },
    message: "3 of 3 resources synced to 4f2a9c1",
    results: [configMap, service, deployment].map((key) => ({
      key,
      status: "Synced",
      message: "created (server-side apply)",
      ...inSync,
    })),
    log: [],
    missingNamespace: null,
  },
};
