import { expect, test, type Page } from "@playwright/test";
import type { Activity, AppStatus, AppSummary, EngineEvent } from "../../src/backend/bindings";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

/** A time today (the window shows the date only for other days). */
function todayAt(hours: number, minutes: number): Date {
  const at = new Date();
  at.setHours(hours, minutes, 0, 0);
  return at;
}

/** The guestbook on a second cluster, in sync. */
const prod: AppStatus = {
  ...demoScenario.after,
  app: {
    ...demoScenario.before.app,
    name: "guestbook-prod",
    destination: { context: "prod", namespace: "guestbook" },
    syncPolicy: { automated: { prune: true, selfHeal: true }, createNamespace: false },
  },
};

async function open(page: Page) {
  await installMockBackend(page, { ...demoScenario, fleet: [prod] });
  await page.goto("/");
  await page.waitForFunction(() => "__emit" in window);
}

/** What the engine tells, as the shell forwards it. */
async function tell(page: Page, event: EngineEvent) {
  await page.evaluate(
    (e) => (window as unknown as { __emit: (name: string, payload: unknown) => void }).__emit("engine-event", e),
    event,
  );
}

function summary(status: AppStatus, change: Partial<AppSummary> = {}): AppSummary {
  return {
    app: status.app,
    sync: status.sync,
    health: status.health,
    commit: status.commit,
    error: status.error,
    lastOperation: status.lastOperation,
    stale: null,
    outOfSync: status.resources.filter((r) => r.status !== "Synced").length,
    resources: status.resources.length,
    ...change,
  };
}

const calls = (page: Page, command: string) =>
  page.evaluate((c) => (window as unknown as { __calls: string[] }).__calls.filter((x) => x === c).length, command);

test("tiles, the rail and the fleet follow the engine's events by themselves, asking nothing", async ({ page }) => {
  await open(page);
  const tile = page.getByRole("button", { name: "Open guestbook-prod" });
  await expect(tile.locator("[data-status]")).toHaveAttribute("data-status", "Synced");
  await expect(tile).toContainText("Auto-sync · prune · self-heal");
  expect(await calls(page, "app_status")).toBe(0);

  await tell(page, { type: "status", status: summary(prod, { sync: "OutOfSync", health: "Degraded", outOfSync: 1 }) });
  await expect(tile.locator("[data-status]")).toHaveAttribute("data-status", "OutOfSync");
  await expect(tile.locator("[data-health]")).toHaveAttribute("data-health", "Degraded");
  const rail = page.getByRole("navigation", { name: "Contexts and applications" });
  await expect(rail.getByRole("img", { name: "OutOfSync, Degraded" })).toBeVisible();
  await page.getByRole("button", { name: "Fleet" }).click();
  await expect(page.getByRole("table", { name: "Fleet" }).locator("[data-status=OutOfSync]")).toHaveCount(2);
  expect(await calls(page, "app_status")).toBe(0);
});

test("a cluster that stops answering leaves its tiles on their last known state, marked, with no raw error", async ({
  page,
}) => {
  await open(page);
  const since = todayAt(14, 2).toISOString();
  const stale = { since, reason: "the cluster does not answer: connection refused" };
  await tell(page, { type: "status", status: summary(prod, { stale }) });
  const tile = page.getByRole("button", { name: "Open guestbook-prod" });
  await expect(tile).toContainText("Last known state: cluster unreachable since 14:02");
  await expect(tile.locator("[data-status]")).toHaveAttribute("data-status", "Synced");
  await expect(tile.locator(".tile-error")).toHaveCount(0);
  const rail = page.getByRole("navigation", { name: "Contexts and applications" });
  await expect(rail.getByRole("img", { name: /last known Synced, cluster unreachable since 14:02/ })).toBeVisible();

  // Back: current again, with nothing to do.
  await tell(page, { type: "status", status: summary(prod) });
  await expect(tile).not.toContainText("Last known state");
});

test("the app page says it is stale at once and keeps what it showed", async ({ page }) => {
  await open(page);
  await page.getByRole("button", { name: "Open guestbook-prod" }).click();
  await expect(page.locator(".app-actions")).toContainText("Auto-sync · prune · self-heal");
  const since = todayAt(14, 2).toISOString();
  await tell(page, {
    type: "status",
    status: summary(prod, { stale: { since, reason: "the cluster does not answer: connection refused" } }),
  });
  const notice = page.getByRole("status", { name: "Stale" });
  await expect(notice).toContainText("Last known state: cluster unreachable since 14:02.");
  await expect(page.getByRole("table", { name: "Resources" })).toBeVisible();
});

test("Refresh fetches the repository first, then compares", async ({ page }) => {
  await open(page);
  await page.getByRole("button", { name: "Open guestbook", exact: true }).click();
  await expect(page.locator(".app-actions [data-status]")).toHaveAttribute("data-status", "OutOfSync");
  const before = await calls(page, "refresh_app");
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect.poll(() => calls(page, "refresh_app")).toBe(before + 1);
  await expect(page.getByRole("button", { name: "Refresh" })).toBeEnabled();
});

test("activity comes to the bell with a count, lists with its time, and opens the app", async ({ page }) => {
  await open(page);
  const bell = page.getByRole("button", { name: /^Activity/ });
  await expect(bell).toHaveAccessibleName("Activity");
  const at = todayAt(14, 7).toISOString();
  const activity = (id: number, message: string): Activity => ({
    id,
    at,
    kind: "Degraded",
    app: "guestbook-prod",
    context: "prod",
    message,
  });
  await tell(page, { type: "activity", activity: activity(1, "guestbook-prod is degraded") });
  await tell(page, { type: "activity", activity: activity(2, "guestbook-prod is out of sync: 1 of 3 resources") });
  await expect(bell).toHaveAccessibleName("Activity, 2 new");
  await bell.click();
  const panel = page.getByRole("region", { name: "Recent activity" });
  await expect(panel.getByRole("listitem")).toHaveText([
    "14:07 guestbook-prod is out of sync: 1 of 3 resources",
    "14:07 guestbook-prod is degraded",
  ]);
  await expect(bell).toHaveAccessibleName("Activity");
  await panel.getByRole("button", { name: "guestbook-prod is degraded" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "guestbook-prod" })).toBeVisible();
});

test("a click on a desktop notification opens its app", async ({ page }) => {
  await open(page);
  await page.evaluate(() =>
    (window as unknown as { __emit: (name: string, payload: unknown) => void }).__emit("open-app", "guestbook-prod"),
  );
  await expect(page.getByRole("heading", { level: 1, name: "guestbook-prod" })).toBeVisible();
});

test("settings set the fetch interval and mute notifications, globally or per app", async ({ page }) => {
  await open(page);
  await page
    .getByRole("navigation", { name: "Contexts and applications" })
    .getByRole("button", { name: "Preferences" })
    .click();
  const interval = page.getByRole("spinbutton", { name: "Fetch interval in seconds" });
  await expect(interval).toHaveValue("180");
  await interval.fill("5");
  await page.getByRole("button", { name: "Save" }).click();
  expect(await interval.evaluate((e) => (e as HTMLInputElement).validity.rangeUnderflow)).toBe(true);
  expect(await calls(page, "set_fetch_interval")).toBe(0);
  await interval.fill("60");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText("Repositories are fetched every 60 seconds.");
  await expect(interval).toHaveValue("60");

  const perApp = page.getByRole("checkbox", { name: "Notify about guestbook-prod" });
  await perApp.uncheck();
  await expect(page.getByRole("status")).toContainText("guestbook-prod is muted.");
  await expect(perApp).not.toBeChecked();
  await page.getByRole("checkbox", { name: "Desktop notifications" }).uncheck();
  await expect(page.getByRole("status")).toContainText("Desktop notifications are off.");
  await expect(page.getByRole("checkbox", { name: "Notify about guestbook", exact: true })).toBeDisabled();
  const stored = await page.evaluate(async () => {
    const w = window as unknown as {
      __TAURI_INTERNALS__: { invoke: (cmd: string, args?: unknown) => Promise<unknown> };
    };
    return w.__TAURI_INTERNALS__.invoke("get_settings");
  });
  expect(stored).toMatchObject({
    fetchIntervalSeconds: 60,
    notifications: { muted: true, mutedApps: ["guestbook-prod"] },
  });
});
