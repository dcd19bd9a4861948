import { expect, test } from "@playwright/test";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

test.beforeEach(async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
});

test("overview shows the demo banner, the current context and the app's sync status", async ({ page }) => {
  await expect(page.getByRole("note")).toContainText("Demo sandbox");
  const contexts = page.getByRole("list", { name: "Contexts" });
  await expect(contexts.getByRole("listitem").filter({ hasText: "plumbline-demo" })).toContainText(
    ["plumbline-demo", "current"].join(""),
  );
  const tile = page.getByRole("button", { name: "Open guestbook" });
  await expect(tile.locator("[data-status]")).toHaveAttribute("data-status", "OutOfSync");
});

test("application page lists resources with their status", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "guestbook" })).toBeVisible();
  const rows = page.getByRole("table", { name: "Resources" }).getByRole("row");
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1).getByRole("cell")).toHaveText([
    "ConfigMap",
    "guestbook",
    "guestbook-config",
    /OutOfSync/,
    "—",
  ]);
  await expect(rows.nth(3).locator("[data-health]")).toHaveAttribute("data-health", "Progressing");
  await expect(rows.nth(3).locator("[data-health]")).toHaveAttribute("title", /1 of 2 updated replicas/);
  await expect(page.locator(".app-actions [data-health]")).toHaveAttribute("data-health", "Progressing");
  await expect(rows.nth(2)).toContainText("Missing");
  await expect(rows.nth(3)).toContainText("Synced");
  await expect(rows.nth(3)).toContainText('conflict with "kubectl-edit"');
  await expect(page.getByText("4f2a9c1")).toBeVisible();
});

test("diff view shows removed and added lines and folds unchanged runs", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Diff ConfigMap guestbook/guestbook-config" }).click();
  const diff = page.getByRole("region", { name: "Diff of ConfigMap guestbook/guestbook-config" });
  await expect(diff.locator("tr.diff-delete")).toHaveCount(2);
  await expect(diff.locator("tr.diff-insert").first()).toContainText("greeting: Hello from Git");
  await expect(diff.locator("tr.diff-delete").first()).toContainText("greeting: Hello, world");
  const gap = diff.getByRole("button", { name: /Show \d+ unchanged lines/ });
  await expect(gap).toHaveText("Show 6 unchanged lines");
  await gap.click();
  await expect(diff.getByText("extra-2: b")).toBeVisible();
});

test("the diff splits live and desired side by side and marks the changed words", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Diff ConfigMap guestbook/guestbook-config" }).click();
  const diff = page.getByRole("region", { name: "Diff of ConfigMap guestbook/guestbook-config" });
  await expect(diff.locator("tr.diff-insert mark")).toHaveText(["dark"]);
  await expect(diff.locator("tr.diff-delete mark")).toHaveText(["light"]);
  await diff.getByRole("button", { name: "Split" }).click();
  await expect(diff.getByRole("button", { name: "Split" })).toHaveAttribute("aria-pressed", "true");
  const pair = diff.locator("table.diff-split tr", { hasText: "theme: light" });
  await expect(pair.locator("td.diff-delete")).toContainText("theme: light");
  await expect(pair.locator("td.diff-insert")).toContainText("theme: dark");
  const gap = diff.getByRole("button", { name: "Show 6 unchanged lines" });
  await gap.click();
  await expect(diff.locator("table.diff-split tr", { hasText: "extra-2: b" }).locator("td.diff-equal")).toHaveCount(2);
});

test("sync shows the plan first, then progress, then the result, then the refreshed status", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  const plan = page.getByRole("region", { name: "Sync plan" });
  const rows = plan.getByRole("table", { name: "Plan steps" }).locator("tbody tr");
  await expect(rows).toHaveCount(5);
  await expect(rows.nth(0)).toContainText("update");
  await expect(rows.nth(1)).toContainText("create");
  await expect(rows.nth(2)).toContainText("no change");
  await expect(rows.nth(3)).toContainText("prune skipped");
  await expect(rows.nth(3)).toContainText("prune was not asked for");
  await expect(rows.nth(4)).toContainText("PostSync");
  await expect(rows.nth(4)).toContainText("hook (BeforeHookCreation)");
  await expect(rows.nth(4)).toContainText("Job.batch guestbook/smoke-test-…", { useInnerText: true });
  await expect(plan).toContainText("3 changes to 4f2a9c1");

  await plan.getByRole("button", { name: "Sync now" }).click();
  await expect(page.getByRole("status", { name: "Sync progress" })).toBeVisible();
  const result = page.getByRole("status", { name: "Sync result" });
  await expect(result).toContainText("Sync succeeded: 3 synced");
  await expect(page.locator(".app-actions [data-status]")).toHaveAttribute("data-status", "Synced");
  const badges = page.getByRole("table", { name: "Resources" }).locator("tbody [data-status]");
  await expect(badges).toHaveCount(3);
  for (const badge of await badges.all()) await expect(badge).toHaveAttribute("data-status", "Synced");
  const sent = await page.evaluate(() => (window as unknown as { __syncOptions: unknown }).__syncOptions);
  expect(sent).toEqual({
    prune: false,
    dryRun: false,
    forceConflicts: false,
    createNamespace: false,
    resources: [],
    timeout: null,
  });

  // The overview's tile says when.
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("button", { name: "Applications" }).click();
  await expect(page.getByRole("button", { name: "Open guestbook" })).toContainText("synced 5 min ago");
});

test("prune and a selective sync are chosen in the plan and sent with the sync", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  const plan = page.getByRole("region", { name: "Sync plan" });
  await plan.getByRole("checkbox", { name: "Prune" }).check();
  const prune = plan.locator("tbody tr", { hasText: "old-config" });
  await expect(prune).toContainText("prune");
  await expect(prune).not.toContainText("prune skipped");
  await expect(plan).toContainText("4 changes");

  await plan.getByRole("checkbox", { name: "Include Deployment.apps guestbook/guestbook-ui" }).uncheck();
  await expect(plan).toContainText("only 3 chosen resources, no hooks");
  await expect(plan.getByRole("checkbox", { name: /Include Job/ })).toHaveCount(0);
  await plan.getByRole("button", { name: "Sync 3 resources" }).click();
  await expect(page.getByRole("status", { name: "Sync result" })).toBeVisible();
  const sent = (await page.evaluate(() => (window as unknown as { __syncOptions: unknown }).__syncOptions)) as {
    prune: boolean;
    resources: { name: string }[];
  };
  expect(sent.prune).toBe(true);
  expect(sent.resources.map((r) => r.name)).toEqual(["guestbook-config", "guestbook-ui", "old-config"]);
});

test("cancel leaves the plan without syncing", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  await page.getByRole("region", { name: "Sync plan" }).getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("region", { name: "Sync plan" })).toHaveCount(0);
  const calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls).not.toContain("sync_app");
});

test("history lists the syncs, diffs two of them, and rolls back to an earlier one", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "History" }).click();
  const history = page.getByRole("region", { name: "History" });
  const rows = history.getByRole("table", { name: "Operations" }).locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("4f2a9c1");
  await expect(rows.nth(0)).toContainText("by the command line");
  await expect(rows.nth(1)).toContainText("1a2b3c4");
  await expect(rows.nth(0).getByRole("button", { name: /Roll back/ })).toHaveCount(0);

  await history.getByRole("checkbox", { name: "Compare #2" }).check();
  await history.getByRole("checkbox", { name: "Compare #1" }).check();
  const changes = history.getByRole("region", { name: "Changes from #1 to #2" });
  await expect(changes.getByRole("heading", { name: "ConfigMap guestbook/guestbook-config (changed)" })).toBeVisible();
  await expect(changes.locator("tr.diff-insert").first()).toContainText("greeting: Hello from Git");

  await history.getByRole("button", { name: "Roll back to #1" }).click();
  await expect(page.getByRole("status", { name: "Sync result" })).toContainText("synced to 1a2b3c4");
  expect(await page.evaluate(() => (window as unknown as { __rollback: unknown }).__rollback)).toBe(1);
});

test("an app that cannot be compared shows the reason in words, not a blank page", async ({ page }) => {
  await installMockBackend(page, {
    ...demoScenario,
    before: {
      ...demoScenario.before,
      sync: "Unknown",
      resources: [],
      commit: null,
      error: {
        code: "Manifest",
        message: "guestbook/deployment.yaml, line 7: did not find expected key",
        detail: "Fix the manifest in Git and commit; Plumbline reads the committed files.",
        hostKey: null,
      },
    },
  });
  await page.goto("/");
  await page.getByRole("button", { name: "Open guestbook" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("guestbook/deployment.yaml, line 7");
  await expect(alert).toContainText("Fix the manifest in Git");
  await expect(page.getByRole("button", { name: "Sync", exact: true })).toBeDisabled();
});

test("the resource panel shows the summary, both manifests and the resource's events", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Diff Deployment.apps guestbook/guestbook-ui" }).click();
  const panel = page.getByRole("region", { name: "Resource Deployment.apps guestbook/guestbook-ui" });
  await expect(panel.getByRole("tab", { name: "Diff" })).toHaveAttribute("aria-selected", "true");
  await panel.getByRole("tab", { name: "Summary" }).click();
  await expect(panel.getByRole("tabpanel")).toContainText("guestbook/deployment.yaml");
  await expect(panel.getByRole("tabpanel")).toContainText("1 of 2 updated replicas are available");
  await panel.getByRole("tab", { name: "Events" }).click();
  const events = panel.getByRole("table", { name: "Events" }).locator("tbody tr");
  await expect(events).toHaveCount(2);
  await expect(events.nth(1)).toHaveClass("event-warning");
  await expect(events.nth(1)).toContainText("ReplicaSet has timed out progressing");

  await page.getByRole("button", { name: "Diff ConfigMap guestbook/guestbook-config" }).click();
  const configMap = page.getByRole("region", { name: "Resource ConfigMap guestbook/guestbook-config" });
  await configMap.getByRole("tab", { name: "Events" }).click();
  await expect(configMap).toContainText("No events about this resource.");
  await configMap.getByRole("tab", { name: "Live" }).click();
  await expect(configMap.getByLabel("Live manifest")).toBeVisible();
});

test("the tree is a graph from the application to what the cluster made, with many Pods folded into one node", async ({
  page,
}) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Tree", exact: true }).click();
  const graph = page.getByRole("region", { name: "Resource tree" });
  const node = (name: string | RegExp) => graph.getByRole("group", { name, exact: typeof name === "string" });
  const edge = (from: string, to: string) => graph.getByRole("img", { name: `${from} to ${to}`, exact: true });
  await expect(node("Application guestbook")).toBeVisible();
  // Screen readers (and the desktop bench) know when the graph is the latest answer.
  await expect(graph).toHaveAttribute("aria-busy", "false");
  await expect(edge("Application guestbook", "Deployment.apps guestbook/guestbook-ui")).toHaveCount(1);
  await expect(
    edge("Deployment.apps guestbook/guestbook-ui", "ReplicaSet.apps guestbook/guestbook-ui-5d59d67564"),
  ).toHaveCount(1);
  await expect(edge("Service guestbook/guestbook-ui", "Endpoints guestbook/guestbook-ui")).toHaveCount(1);
  const pods = node("5 pods");
  await expect(pods).toContainText("4 of 5 healthy");
  await expect(node(/^Pod /)).toHaveCount(0);
  await pods.getByRole("button", { name: "5 pods" }).click();
  await expect(node(/^Pod guestbook\/guestbook-ui-5d59d67564-p\d$/)).toHaveCount(5);
  await expect(
    edge("ReplicaSet.apps guestbook/guestbook-ui-5d59d67564", "Pod guestbook/guestbook-ui-5d59d67564-p3"),
  ).toHaveCount(1);
  // Out-of-sync resources are outlined; the badges say which.
  await expect(graph.locator(".tree-out-of-sync")).toHaveCount(2);

  // Zoom and fit: the viewport's transform changes and comes back.
  const viewport = graph.locator(".react-flow__viewport");
  const fitted = await viewport.getAttribute("style");
  await graph.getByRole("button", { name: "Zoom In" }).click();
  await expect(viewport).not.toHaveAttribute("style", fitted ?? "");
  await graph.getByRole("button", { name: "Fit View" }).click();
  await expect(viewport).toHaveAttribute("style", fitted ?? "");

  await graph.getByRole("button", { name: "Open ConfigMap guestbook/guestbook-config" }).click();
  await expect(page.getByRole("region", { name: "Resource ConfigMap guestbook/guestbook-config" })).toBeVisible();
});

test("the network view goes from Service to the Pods it selects", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Network" }).click();
  const graph = page.getByRole("region", { name: "Network" });
  await expect(graph.getByRole("group", { name: "Service guestbook/guestbook-ui", exact: true })).toBeVisible();
  await expect(graph.getByRole("img", { name: "Service guestbook/guestbook-ui to 5 pods" })).toHaveCount(1);
  // Only the network: no Deployment, no ConfigMap.
  await expect(graph.getByRole("group", { name: /Deployment|ConfigMap/ })).toHaveCount(0);
});

test("a change in the cluster is pushed to the open app without a refresh", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  const badge = page.locator(".app-actions [data-status]");
  await expect(badge).toHaveAttribute("data-status", "OutOfSync");
  await page.waitForFunction(() => "__clusterChanged" in window);
  const before = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls.length);
  await page.evaluate(() => (window as unknown as { __clusterChanged: () => void }).__clusterChanged());
  await expect(badge).toHaveAttribute("data-status", "Synced");
  const calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls.slice(before)).toContain("app_status");
  expect(calls).not.toContain("sync_app");
});

test("a change pushed to the open tree redraws it without hiding a node, even for a moment", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Tree", exact: true }).click();
  const graph = page.getByRole("region", { name: "Resource tree" });
  await expect(graph.locator(".tree-out-of-sync")).toHaveCount(2);
  await page.waitForFunction(() => "__clusterChanged" in window);
  // Every node the graph hides between two paints, from here on: a node that is hidden cannot be
  // clicked, and one re-measured on every refresh costs a layout pass per node.
  await page.evaluate(() => {
    const flow = document.querySelector(".react-flow");
    if (!flow) throw new Error("no graph");
    const hidden: string[] = [];
    Object.assign(window, { __hidden: hidden });
    new MutationObserver((records) => {
      for (const { target } of records) {
        const node = target as HTMLElement;
        if (node.classList.contains("react-flow__node") && node.style.visibility === "hidden") {
          hidden.push(node.getAttribute("aria-label") ?? "?");
        }
      }
    }).observe(flow, { attributes: true, subtree: true, attributeFilter: ["style"] });
  });
  await page.evaluate(() => (window as unknown as { __clusterChanged: () => void }).__clusterChanged());
  await expect(graph.locator(".tree-out-of-sync")).toHaveCount(0);
  await expect(graph).toHaveAttribute("aria-busy", "false");
  expect(await page.evaluate(() => (window as unknown as { __hidden: string[] }).__hidden)).toEqual([]);
});

test("a Pod's log streams in its panel, per container, followed until stopped, and the previous one is explained", async ({
  page,
}) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Tree", exact: true }).click();
  const graph = page.getByRole("region", { name: "Resource tree" });
  await graph.getByRole("button", { name: "5 pods" }).click();
  await graph.getByRole("button", { name: "Open Pod guestbook/guestbook-ui-5d59d67564-p1" }).click();
  const panel = page.getByRole("region", { name: "Resource Pod guestbook/guestbook-ui-5d59d67564-p1" });
  const log = panel.getByRole("log", { name: "Log of web" });
  await expect(log).toContainText("web: ready");
  await expect(log).toContainText("web: served request 2");
  await expect(panel.getByRole("status")).toHaveText("following…");
  // No diff is asked for what Git does not hold.
  await expect(page.getByText("Diff could not be computed.")).toHaveCount(0);

  await panel.getByLabel("Container", { exact: true }).selectOption("proxy");
  await expect(panel.getByRole("log", { name: "Log of proxy" })).toContainText("proxy: ready");
  await panel.getByRole("button", { name: "Stop" }).click();
  await expect(panel.getByRole("status")).toHaveText("stopped");
  const calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls).toContain("stop_logs");

  await panel.getByLabel("Previous container").check();
  await expect(panel.getByRole("alert")).toContainText('previous terminated container "proxy"');
  const sent = await page.evaluate(() => (window as unknown as { __logOptions: unknown[] }).__logOptions);
  expect(sent.at(-1)).toEqual({ container: "proxy", previous: true, follow: false, tailLines: 500 });

  await panel.getByRole("tab", { name: "Events" }).click();
  await expect(panel).toContainText("No events about this resource.");
});

test("a missing namespace: the plan says so and creates it on request; a sync without it offers it", async ({
  page,
}) => {
  await installMockBackend(page, { ...demoScenario, missingNamespace: "guestbook" });
  await page.goto("/");
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  const plan = page.getByRole("region", { name: "Sync plan" });
  await expect(plan.getByRole("alert")).toContainText("The namespace guestbook does not exist");
  await plan.getByRole("button", { name: "Sync now" }).click();
  const result = page.getByRole("status", { name: "Sync result" });
  await expect(result).toContainText('the namespace "guestbook" does not exist');
  await result.getByRole("button", { name: "Sync again, creating namespace guestbook" }).click();
  await expect(page.getByRole("status", { name: "Sync result" })).toContainText("Sync succeeded");
  expect(
    await page.evaluate(
      () => (window as unknown as { __syncOptions: { createNamespace: boolean } }).__syncOptions.createNamespace,
    ),
  ).toBe(true);

  await page.getByRole("button", { name: "Sync", exact: true }).click();
  await expect(plan.getByRole("alert")).toContainText("does not exist");
  await plan.getByRole("button", { name: "Create it in this sync" }).click();
  await expect(plan.getByLabel("Create namespace")).toBeChecked();
  await expect(plan.getByRole("alert")).toHaveCount(0);
  await expect(plan.getByRole("table", { name: "Plan steps" }).locator("tbody tr").first()).toContainText(
    "Namespace guestbook",
  );
});

test("on a read-only context the page and the diff say they compare without the server's prediction", async ({
  page,
}) => {
  const words =
    "Compared without the server's prediction for 3 of 3 resources (the server refused the dry run: forbidden)";
  const diffKey = "/ConfigMap/guestbook/guestbook-config";
  const readOnly = {
    ...demoScenario,
    before: { ...demoScenario.before, notes: [words] },
    diffs: { [diffKey]: { ...demoScenario.diffs[diffKey], note: words } },
  };
  await installMockBackend(page, readOnly);
  await page.goto("/");
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await expect(page.locator(".notice-info").filter({ hasText: words })).toBeVisible();
  await page.getByRole("button", { name: "Diff ConfigMap guestbook/guestbook-config" }).click();
  const diff = page.getByRole("region", { name: "Diff of ConfigMap guestbook/guestbook-config" });
  await expect(diff).toContainText("Compared without the server's prediction");
});
