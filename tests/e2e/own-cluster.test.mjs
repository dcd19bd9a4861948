// Desktop end-to-end with the user's own kubeconfig (a kube-sandbox process standing in for
// their cluster) and their own Git clone: add an application in the form, see its status,
// and find it again after the app restarts (tauri-plugin-store on disk).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Desktop, root } from "./harness.mjs";

const desktop = new Desktop();
let work;
let env;

async function waitForFile(path, what) {
  const deadline = Date.now() + 20_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${path})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "plumbline-e2e-own-"));
  const kubeconfig = join(work, "kubeconfig");
  desktop.spawn(join(root, "target/debug/kube-sandbox"), ["--kubeconfig-out", kubeconfig, "--context", "dev"], {}, [
    "ignore",
    "ignore",
    "inherit",
  ]);
  await waitForFile(kubeconfig, "the sandbox's kubeconfig");

  const repo = join(work, "deploy");
  mkdirSync(join(repo, "apps/web"), { recursive: true });
  writeFileSync(
    join(repo, "apps/web/cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-settings\ndata:\n  mode: fast\n",
  );
  const git = (...args) => execFileSync("git", ["-C", repo, ...args], { stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=Test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "web settings");

  env = { KUBECONFIG: kubeconfig, HOME: work, PLUMBLINE_DATA_DIR: join(work, "data") };
});

after(() => {
  desktop.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("an application added in the form shows its status and is still there after a restart", async () => {
  let driver = await desktop.open(env);
  try {
    const context = await driver.waitFor('nav[aria-label="Contexts and applications"] li.current', "the current context");
    assert.match(await driver.text(context), /^dev/);
    assert.equal((await driver.find(".demo-banner")).length, 0, "no demo banner with a real kubeconfig");

    await driver.click(await driver.waitFor(".screen-header button.primary", "the Add application button"));
    const type = async (label, text) => {
      const input = await driver.waitFor(`form[aria-label="Add application"] input[placeholder="${label}"]`, label);
      await driver.request("POST", driver.s(`/element/${input}/clear`), {});
      await driver.request("POST", driver.s(`/element/${input}/value`), { text });
    };
    await type("guestbook", "web");
    await type("https://github.com/team/deploy.git", join(work, "deploy"));
    await type("apps/guestbook", "apps/web");
    await driver.click(await driver.waitFor('form[aria-label="Add application"] button[type="submit"]', "Add"));

    const heading = await driver.waitFor("#app-title", "the new app's page");
    assert.equal(await driver.text(heading), "web");
    const row = await driver.waitFor(".resources tbody tr", "the ConfigMap row", {
      accept: async (e) => (await driver.text(e)).includes("web-settings"),
    });
    assert.match(await driver.text(row), /Missing/);
  } finally {
    await desktop.close(driver);
  }

  const stored = JSON.parse(readFileSync(join(env.PLUMBLINE_DATA_DIR, "applications.json"), "utf8"));
  assert.equal(stored.applications[0].name, "web");
  assert.equal(stored.applications[0].destination.context, "dev");

  driver = await desktop.open(env);
  try {
    const tile = await driver.waitFor('button[aria-label="Open web"] [data-status]', "the web tile after a restart");
    assert.equal(await driver.attribute(tile, "data-status"), "OutOfSync");
  } finally {
    await desktop.close(driver);
  }
});
