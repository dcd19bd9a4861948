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
  await form.getByRole("button", { name: "Add", exact: true }).click();
  await expect(form.getByRole("alert")).toContainText("name must be lower-case letters");
  await expect(form.getByLabel("Repository (an added repository's URL, or a local Git folder)")).toHaveValue(
    "/home/me/deploy",
  );

  await form.getByLabel("Name", { exact: true }).fill("web");
  await form.getByRole("button", { name: "Add", exact: true }).click();
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

test("an Argo CD Application fills the form, with its sync policy and ignore rules, and an app exports back", async ({
  page,
}) => {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await page.getByRole("button", { name: "Add application" }).click();
  const form = page.getByRole("form", { name: "Add application" });
  await form.getByRole("button", { name: "Start from an Argo CD Application…" }).click();
  await form.getByLabel("Argo CD Application manifest (YAML)").fill("kind: Deployment");
  await form.getByRole("button", { name: "Fill the form from it" }).click();
  await expect(form.getByRole("alert")).toContainText("not an Argo CD Application");

  await form
    .getByLabel("Argo CD Application manifest (YAML)")
    .fill("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n");
  await form.getByRole("button", { name: "Fill the form from it" }).click();
  await expect(form.getByRole("status", { name: "Import notes" })).toContainText('"in-cluster": choose the context');
  await expect(form.getByLabel("Name", { exact: true })).toHaveValue("web");
  await expect(form.getByLabel("Revision", { exact: true })).toHaveValue("v1.4.0");
  // No context matched: the current one stays chosen.
  await expect(form.getByLabel("Context")).toHaveValue("plumbline-demo");
  await expect(form.getByLabel("Automated: sync each new commit by itself while Plumbline runs")).toBeChecked();
  await expect(form.getByLabel("Prune resources removed from Git")).toBeChecked();
  await expect(form.getByLabel("Self-heal: sync back changes made in the cluster")).not.toBeChecked();
  await expect(form.getByLabel("Create the namespace when it does not exist (every sync)")).toBeChecked();
  // The folder's Jsonnet options came across; one more top-level argument, as code.
  const externalVariable = form.getByRole("group", { name: "External variable 1" });
  await expect(externalVariable.getByLabel("Variable")).toHaveValue("env");
  await expect(externalVariable.getByLabel("Value")).toHaveValue("prod");
  await expect(form.getByLabel("Library paths (comma-separated, from the repository root)")).toHaveValue("lib");
  await form.getByRole("button", { name: "Add top-level argument" }).click();
  const argument = form.getByRole("group", { name: "Top-level argument 1" });
  await argument.getByLabel("Argument").fill("replicas");
  await argument.getByLabel("Value").fill("1 + 1");
  await argument.getByLabel("Jsonnet code").check();
  const rule = form.getByRole("group", { name: "Ignore rule 1" });
  await expect(rule.getByLabel("JSON pointers")).toHaveValue("/spec/replicas");
  // One more rule, by manager; then self-heal on.
  await form.getByRole("button", { name: "Add ignore rule" }).click();
  const second = form.getByRole("group", { name: "Ignore rule 2" });
  await second.getByLabel("Kind").fill("HorizontalPodAutoscaler");
  await second.getByLabel("Managers").fill("hpa, kube-controller-manager");
  await form.getByLabel("Self-heal: sync back changes made in the cluster").check();
  await form.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "web" })).toBeVisible();

  // What was saved, as the settings read it back.
  await page.getByRole("button", { name: "Settings" }).click();
  const edit = page.getByRole("form", { name: "Edit application" });
  await expect(edit.getByLabel("Self-heal: sync back changes made in the cluster")).toBeChecked();
  await expect(edit.getByLabel("Create the namespace when it does not exist (every sync)")).toBeChecked();
  const saved = edit.getByRole("group", { name: "Top-level argument 1" });
  await expect(saved.getByLabel("Value")).toHaveValue("1 + 1");
  await expect(saved.getByLabel("Jsonnet code")).toBeChecked();
  await expect(edit.getByRole("group", { name: "Ignore rule 2" }).getByLabel("Managers")).toHaveValue(
    "hpa, kube-controller-manager",
  );
  await edit.getByRole("group", { name: "Ignore rule 1" }).getByRole("button", { name: "Remove" }).click();
  await expect(edit.getByRole("group", { name: "Ignore rule 2" })).toHaveCount(0);

  await page.getByRole("button", { name: "Export as Argo CD Application" }).click();
  await expect(page.getByLabel(/Argo CD Application manifest: apply it/)).toHaveValue(
    /kind: Application\n[\s\S]*name: web/,
  );
});
