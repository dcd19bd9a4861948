import { expect, test, type Page } from "@playwright/test";
import type { AppStatus } from "../../src/backend/bindings";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

/** The guestbook on two more clusters: staging in step with the demo, prod on an older commit. */
function onContext(context: string, sha: string, sync: AppStatus["sync"], health: AppStatus["health"]): AppStatus {
  return {
    ...demoScenario.before,
    app: { ...demoScenario.before.app, name: `guestbook-${context}`, destination: { context, namespace: "guestbook" } },
    sync,
    health,
    commit: { sha, summary: "" },
  };
}

async function open(page: Page) {
  await installMockBackend(page, {
    ...demoScenario,
    fleet: [
      onContext("staging", "4f2a9c1d0e", "Synced", "Healthy"),
      onContext("prod", "1a2b3c4d5e", "OutOfSync", "Degraded"),
    ],
  });
  await page.goto("/");
}

const tiles = (page: Page) =>
  page
    .getByRole("list")
    .filter({ has: page.getByRole("button", { name: /^Open / }) })
    .getByRole("button", { name: /^Open / });

test("tiles show sync and health, and filters narrow them by text, context, sync and health", async ({ page }) => {
  await open(page);
  await expect(tiles(page)).toHaveCount(3);
  const prod = page.getByRole("button", { name: "Open guestbook-prod" });
  await expect(prod.locator("[data-status]")).toHaveAttribute("data-status", "OutOfSync");
  await expect(prod.locator("[data-health]")).toHaveAttribute("data-health", "Degraded");
  await expect(page.getByRole("button", { name: "Open guestbook", exact: true })).toContainText(
    "never synced from Plumbline",
  );

  await page.getByRole("searchbox", { name: "Filter by text" }).fill("prod");
  await expect(tiles(page)).toHaveText([/guestbook-prod/]);
  await page.getByRole("searchbox", { name: "Filter by text" }).fill("");
  await page.getByRole("combobox", { name: "Filter by sync" }).selectOption("OutOfSync");
  await expect(tiles(page)).toHaveCount(2);
  await page.getByRole("combobox", { name: "Filter by health" }).selectOption("Degraded");
  await expect(tiles(page)).toHaveText([/guestbook-prod/]);
  await expect(page.getByRole("search")).toContainText("1 of 3 shown");
  await page.getByRole("button", { name: "Clear filters" }).click();
  await page.getByRole("combobox", { name: "Filter by context" }).selectOption("staging");
  await expect(tiles(page)).toHaveText([/guestbook-staging/]);
});

test("the fleet matrix puts one source across contexts and marks the one that differs", async ({ page }) => {
  await open(page);
  await page.getByRole("button", { name: "Fleet" }).click();
  const fleet = page.getByRole("table", { name: "Fleet" });
  await expect(fleet.locator("thead th")).toHaveText(["Source", "plumbline-demo", "prod", "staging"]);
  await expect(fleet.locator("tbody tr")).toHaveCount(1);
  const differs = fleet.locator("td.fleet-differs");
  await expect(differs).toHaveCount(1);
  await expect(differs).toContainText("guestbook-prod");
  await expect(differs).toContainText("1a2b3c4 ≠");
  await fleet.getByRole("button", { name: "Open guestbook-staging on staging" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "guestbook-staging" })).toBeVisible();
});

test("an application a script adds beside the window shows up by itself", async ({ page }) => {
  await open(page);
  await expect(tiles(page)).toHaveCount(3);
  await page.waitForFunction(() => "__emit" in window);
  await page.evaluate(() => {
    const w = window as unknown as {
      __addedElsewhere: (name: string) => void;
      __emit: (event: string, payload: unknown) => void;
    };
    w.__addedElsewhere("from-a-script");
    w.__emit("store-changed", null);
  });
  await expect(page.getByRole("button", { name: "Open from-a-script" })).toBeVisible();
  await expect(tiles(page)).toHaveCount(4);
});
