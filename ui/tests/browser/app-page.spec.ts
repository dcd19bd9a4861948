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
  await expect(rows.nth(1).getByRole("cell")).toHaveText(["ConfigMap", "guestbook", "guestbook-config", /OutOfSync/]);
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

test("sync shows progress, then the result, then the refreshed status", async ({ page }) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  await expect(page.getByRole("button", { name: "Syncing…" })).toBeDisabled();
  await expect(page.getByRole("status", { name: "Sync progress" })).toBeVisible();
  const result = page.getByRole("status", { name: "Sync result" });
  await expect(result).toContainText("Sync succeeded: 3 synced");
  await expect(page.locator(".app-actions [data-status]")).toHaveAttribute("data-status", "Synced");
  const rows = page.getByRole("table", { name: "Resources" }).locator("tbody [data-status]");
  await expect(rows).toHaveCount(3);
  for (const badge of await rows.all()) await expect(badge).toHaveAttribute("data-status", "Synced");
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
