import { expect, test } from "@playwright/test";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

test.beforeEach(async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Open guestbook" })).toBeVisible();
});

test("Ctrl+K finds an action by words and runs it with Enter", async ({ page }) => {
  await page.keyboard.press("Control+k");
  const palette = page.getByRole("dialog", { name: "Command palette" });
  await expect(palette.getByRole("combobox", { name: "Command" })).toBeFocused();
  await page.keyboard.type("sync guest");
  await expect(palette.getByRole("option", { selected: true })).toHaveText(/Sync guestbook…/);
  await page.keyboard.press("Enter");
  await expect(palette).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 1, name: "guestbook" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Sync plan" })).toBeVisible();
});

test("arrows choose among matches, Escape closes, and screens are reachable", async ({ page }) => {
  await page.getByRole("button", { name: /Search…/ }).click();
  const palette = page.getByRole("dialog", { name: "Command palette" });
  await page.keyboard.type("go to");
  await expect(palette.getByRole("option")).toHaveText([/Applications/, /Repositories/, /Contexts/, /Preferences/]);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(palette.getByRole("option", { selected: true })).toHaveText(/Contexts/);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toContainText("Contexts");
  await page.keyboard.press("Control+k");
  await page.keyboard.type("nothing like this");
  await expect(palette).toContainText("Nothing matches");
  await page.keyboard.press("Escape");
  await expect(palette).toHaveCount(0);
});

test("shortcuts: s plans a sync on an app page, g o goes back to the overview, typing is left alone", async ({
  page,
}) => {
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "guestbook" })).toBeVisible();
  await page.keyboard.press("s");
  const plan = page.getByRole("region", { name: "Sync plan" });
  await expect(plan).toBeVisible();
  await plan.getByRole("button", { name: "Cancel" }).click();
  await expect(plan).toHaveCount(0);
  // An "s" typed into a field is text, not a shortcut.
  await page.keyboard.press("Control+k");
  await page.keyboard.type("s");
  await page.keyboard.press("Escape");
  await expect(plan).toHaveCount(0);
  await page.keyboard.press("g");
  await page.keyboard.press("o");
  await expect(page.getByRole("heading", { level: 1, name: "Applications" })).toBeVisible();
});
