import { expect, test, type Page } from "@playwright/test";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

const rail = (page: Page) => page.getByRole("navigation", { name: "Contexts and applications" });

test("contexts: nothing connects until asked, then each says its state in words", async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await expect(rail(page).getByRole("img", { name: "not connected" })).toHaveCount(2);
  let calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls).not.toContain("probe_context");

  await rail(page).getByRole("button", { name: /prod/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Contexts" })).toBeVisible();
  const table = page.getByRole("table", { name: "Contexts" });
  await table.getByRole("button", { name: "Connect to plumbline-demo" }).click();
  await table.getByRole("button", { name: "Connect to prod" }).click();
  await expect(table.getByRole("row", { name: "plumbline-demo" })).toContainText("connected v1.32.0-sandbox");
  await expect(table.getByRole("row", { name: "prod" })).toContainText("unauthorised");
  await expect(table.getByRole("row", { name: "prod" })).toContainText("Unauthorized");
  await expect(rail(page).getByRole("img", { name: "unauthorised" })).toBeVisible();
  calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls.filter((c) => c === "probe_context")).toHaveLength(2);
});

test("contexts: a kubeconfig file added in the app brings its contexts, and removing it takes them away", async ({
  page,
}) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await rail(page).getByRole("button", { name: /prod/ }).click();
  const form = page.getByRole("form", { name: "Add kubeconfig file" });
  await form.getByLabel("Kubeconfig file").fill("/home/me/.kube/staging.yaml");
  await form.getByRole("button", { name: "Add file" }).click();
  await expect(page.getByRole("table", { name: "Contexts" }).getByRole("row", { name: "staging" })).toBeVisible();
  await expect(rail(page).getByRole("button", { name: /staging/ })).toBeVisible();
  await page.getByRole("button", { name: "Remove /home/me/.kube/staging.yaml" }).click();
  await expect(rail(page).getByRole("button", { name: /staging/ })).toHaveCount(0);
});

test("a protected context: Sync asks for its name and runs only with it", async ({ page }) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await rail(page)
    .getByRole("button", { name: /plumbline-demo/ })
    .click();
  await page.getByRole("checkbox", { name: "Protect plumbline-demo" }).check();
  await expect(rail(page).getByRole("img", { name: "protected" })).toBeVisible();

  await rail(page).getByRole("button", { name: "guestbook" }).click();
  await page.getByRole("button", { name: "Sync", exact: true }).click();
  await page.getByRole("region", { name: "Sync plan" }).getByRole("button", { name: "Sync now" }).click();
  const confirm = page.getByRole("form", { name: "Confirm sync" });
  await expect(confirm).toContainText("plumbline-demo is a protected context.");
  const go = confirm.getByRole("button", { name: "Sync plumbline-demo" });
  await confirm.getByLabel(/Type/).fill("plumbline");
  await expect(go).toBeDisabled();
  await confirm.getByLabel(/Type/).fill("plumbline-demo");
  await go.click();
  await expect(page.getByRole("status", { name: "Sync result" }).or(page.getByLabel("Sync result"))).toContainText(
    "Sync succeeded",
  );
});
