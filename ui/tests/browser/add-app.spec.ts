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
