import { expect, test, type Page } from "@playwright/test";
import { installMockBackend } from "./mock-backend";
import { demoScenario } from "./scenario";

async function openRepositories(page: Page) {
  await installMockBackend(page, demoScenario);
  await page.goto("/");
  await page
    .getByRole("navigation", { name: "Contexts and applications" })
    .getByRole("button", { name: "Repositories" })
    .click();
  await expect(page.getByRole("heading", { level: 1, name: "Repositories" })).toBeVisible();
}

const keyring = (page: Page) =>
  page.evaluate(() => [...(window as unknown as { __keyring: Map<string, string> }).__keyring.entries()]);

test("an HTTPS repository: a wrong token asks again, the right one clones; the secret is only in the keyring", async ({
  page,
}) => {
  await openRepositories(page);
  await page.getByRole("button", { name: "Add repository" }).click();
  const form = page.getByRole("form", { name: "Add repository" });
  await form.getByLabel("URL").fill("not a url");
  await form.getByRole("button", { name: "Add and fetch" }).click();
  await expect(form.getByRole("alert")).toContainText("is not a repository address");

  const url = "https://git.example.com/team/deploy.git";
  await form.getByLabel("URL").fill(url);
  await form.getByLabel("Authentication").selectOption("https");
  await form.getByLabel("Username", { exact: true }).fill("ann");
  await form.getByLabel("Password or token").fill("wrong");
  await form.getByRole("button", { name: "Add and fetch" }).click();

  const card = page.getByRole("listitem", { name: url });
  const prompt = card.getByRole("form", { name: "Credentials needed" });
  await expect(prompt).toContainText("needs credentials");
  await expect(card).toContainText("Password or token: stored in keyring");
  await prompt.getByLabel("Password or token").fill("s3cret");
  await prompt.getByRole("button", { name: "Save to keyring and retry" }).click();
  await expect(card.getByRole("status")).toContainText("Cloned.");
  await expect(card).toContainText("cloned");
  await expect(card).toContainText("HTTPS as ann");

  // The page shows whether a secret is stored, never the secret.
  await expect(page.locator("body")).not.toContainText("s3cret");
  const inputs = await page.locator("input").evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
  expect(inputs).not.toContain("s3cret");
  expect(await keyring(page)).toEqual([[`password ${url}`, "s3cret"]]);

  await card.getByRole("button", { name: "Delete password or token" }).click();
  await expect(card).toContainText("Password or token: not stored");
  expect(await keyring(page)).toEqual([]);
  await card.getByRole("button", { name: "Set password or token" }).click();
  await card.getByRole("form", { name: "Password or token" }).getByLabel("Password or token").fill("again");
  await card.getByRole("button", { name: "Save to keyring" }).click();
  await expect(card).toContainText("Password or token: stored in keyring");
  expect(await keyring(page)).toEqual([[`password ${url}`, "again"]]);

  await card.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByRole("listitem", { name: url })).toHaveCount(0);
  await expect(page.getByText("No repositories yet.")).toBeVisible();
});

test("an SSH repository: the unknown host key is shown with its fingerprint and trusted only on request", async ({
  page,
}) => {
  await openRepositories(page);
  await page.getByRole("button", { name: "Add repository" }).click();
  const form = page.getByRole("form", { name: "Add repository" });
  const url = "ssh://git@git.example.com:2222/team/deploy.git";
  await form.getByLabel("URL").fill(url);
  await form.getByLabel("Authentication").selectOption("sshAgent");
  await form.getByRole("button", { name: "Add and fetch" }).click();

  const card = page.getByRole("listitem", { name: url });
  const dialog = card.getByRole("dialog", { name: "Trust the SSH server git.example.com port 2222?" });
  await expect(dialog).toContainText("SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8");
  await dialog.getByRole("button", { name: "Don't connect" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card).toContainText("not cloned yet");

  await card.getByRole("button", { name: "Clone" }).click();
  await card.getByRole("button", { name: "Trust and connect" }).click();
  await expect(card.getByRole("status")).toContainText("Cloned.");
  const calls = await page.evaluate(() => (window as unknown as { __calls: string[] }).__calls);
  expect(calls.filter((c) => c === "accept_host_key")).toHaveLength(1);
});

test("a fetch shows the objects received and can be cancelled", async ({ page }) => {
  await openRepositories(page);
  await page.getByRole("button", { name: "Add repository" }).click();
  const form = page.getByRole("form", { name: "Add repository" });
  const url = "https://git.example.com/big.git";
  await form.getByLabel("URL").fill(url);
  await form.getByRole("button", { name: "Add and fetch" }).click();
  const card = page.getByRole("listitem", { name: url });
  await expect(card.getByRole("status")).toContainText("Receiving objects: 1200 of 2400");
  await expect(card.getByRole("progressbar", { name: "Objects received" })).toHaveAttribute("value", "1200");
  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card.getByRole("alert")).toContainText("Fetch cancelled.");
  await expect(card).toContainText("not cloned yet");
});

test("editing a repository changes how it is reached; a secret typed there goes to the keyring", async ({ page }) => {
  await openRepositories(page);
  await page.getByRole("button", { name: "Add repository" }).click();
  const url = "https://git.example.com/team/public.git";
  const add = page.getByRole("form", { name: "Add repository" });
  await add.getByLabel("URL").fill(url);
  await add.getByRole("button", { name: "Add and fetch" }).click();
  const card = page.getByRole("listitem", { name: url });
  await expect(card.getByRole("status")).toContainText("Cloned.");
  await expect(card).toContainText("No authentication");

  await card.getByRole("button", { name: "Edit" }).click();
  const edit = card.getByRole("form", { name: `Edit ${url}` });
  await expect(edit.getByLabel("URL")).toHaveAttribute("readonly", "");
  await edit.getByLabel("Authentication").selectOption("https");
  await edit.getByLabel("Username", { exact: true }).fill("bob");
  await edit.getByLabel("Password or token").fill("s3cret");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toHaveCount(0);
  await expect(card).toContainText("HTTPS as bob");
  await expect(card).toContainText("Password or token: stored in keyring");
  expect(await keyring(page)).toEqual([[`password ${url}`, "s3cret"]]);
});

test("an app on an added repository picks its revision from the clone's branches and tags", async ({ page }) => {
  await openRepositories(page);
  await page.getByRole("button", { name: "Add repository" }).click();
  const url = "https://git.example.com/team/deploy.git";
  const add = page.getByRole("form", { name: "Add repository" });
  await add.getByLabel("URL").fill(url);
  await add.getByLabel("Authentication").selectOption("https");
  await add.getByLabel("Username", { exact: true }).fill("ann");
  await add.getByLabel("Password or token").fill("s3cret");
  await add.getByRole("button", { name: "Add and fetch" }).click();
  await expect(page.getByRole("listitem", { name: url }).getByRole("status")).toContainText("Cloned.");

  await page.getByRole("button", { name: "Applications" }).click();
  await page.getByRole("button", { name: "Add application" }).click();
  const form = page.getByRole("form", { name: "Add application" });
  await form.getByLabel("Repository (an added repository's URL, or a local Git folder)").fill(url);
  await expect(page.locator("#added-repos option")).toHaveAttribute("value", url);
  await expect(page.locator("#repo-revisions option")).toHaveCount(3);
  const revisions = await page
    .locator("#repo-revisions option")
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(revisions).toEqual(["main", "release-1", "v1.0.0"]);
  await expect(page.locator("#context-namespaces option")).toHaveCount(3);
});
