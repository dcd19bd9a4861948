import { expect, test } from "@playwright/test";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

test("adding an application: a refused name is explained, a good one opens the new app", async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await page.getByRole("button", { name: "Add application" }).click();
  const form = page.getByRole("form", { name: "Add application" });
  await form.getByLabel("Name", { exact: true }).fill("Web_App");
  await form.getByLabel("Repository (an added repository's URL, or a local Git folder)").fill("/home/me/deploy");
  await form.getByLabel("Path in the repository").fill("apps/web");
  await expect(form.getByLabel("Context")).toHaveValue("plumbline-demo");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(form.getByRole("alert")).toContainText("name must be lower-case letters");
  await expect(form.getByLabel("Repository (an added repository's URL, or a local Git folder)")).toHaveValue(
    "/home/me/deploy",
  );

  await form.getByLabel("Name", { exact: true }).fill("web");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "web" })).toBeVisible();
  await expect(
    page.getByRole("navigation", { name: "Contexts and applications" }).getByRole("button", { name: "web" }),
  ).toBeVisible();
});

test("an application is edited in its settings and deleted from there", async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await page.getByRole("button", { name: "Open guestbook" }).click();
  await page.getByRole("button", { name: "Settings" }).click();
  const form = page.getByRole("form", { name: "Edit application" });
  await expect(form.getByLabel("Name", { exact: true })).toHaveValue("guestbook");
  await expect(form.getByLabel("Name", { exact: true })).toHaveAttribute("readonly", "");
  await form.getByLabel("Revision", { exact: true }).fill("v2");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form).toHaveCount(0);
  await expect(page.locator(".app-meta")).toContainText("@ v2");

  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("button", { name: "Delete application…" }).click();
  await expect(page.getByRole("region", { name: "Application settings" })).toContainText(
    "Its resources stay in the cluster.",
  );
  await page.getByRole("button", { name: "Delete guestbook" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Applications" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Open guestbook" })).toHaveCount(0);
  const calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls).toContain("update_app");
  expect(calls).toContain("remove_app");
});
