// Desktop end-to-end: the real Plumbline window (WebKitGTK) under Xvfb, driven through
// tauri-driver and WebKitWebDriver. The app runs in demo mode with its own data folder; the
// test checks the outcome in the sandbox cluster with kubectl.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { WebDriver } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const application = process.env.PLUMBLINE_BINARY ?? join(root, "target/debug/plumbline");
const screenshots = process.env.SCREENSHOT_DIR;
const children = [];
let dataDir;
let display;
let driver;

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
    server.on("error", reject);
  });
}

/** Starts Xvfb on a display it picks itself and resolves with ":N" once it accepts clients. */
function startXvfb() {
  return new Promise((resolveDisplay, reject) => {
    const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    });
    children.push(xvfb);
    let out = "";
    xvfb.stdio[3].on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolveDisplay(`:${out.trim()}`);
    });
    xvfb.on("error", reject);
    xvfb.on("exit", (code) => reject(new Error(`Xvfb exited with ${code} before it was ready`)));
  });
}

function start(command, args, env) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
  children.push(child);
  return child;
}

async function waitForPort(port, what) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not start listening on 127.0.0.1:${port}`);
}

function screenshot(name) {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  execFileSync("import", ["-window", "root", join(screenshots, `${name}.png`)], { env: { ...process.env, DISPLAY: display } });
}

function kubectl(...args) {
  return execFileSync("kubectl", ["--kubeconfig", join(dataDir, "demo/kubeconfig"), ...args], { encoding: "utf8" });
}

before(async () => {
  assert.ok(existsSync(application), `${application} is missing: build it with \`make app\``);
  dataDir = mkdtempSync(join(tmpdir(), "plumbline-e2e-"));
  display = await startXvfb();
  const port = await freePort();
  const nativePort = await freePort();
  start("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    DISPLAY: display,
    PLUMBLINE_DEMO: "1",
    PLUMBLINE_DATA_DIR: dataDir,
  });
  await waitForPort(port, "tauri-driver");
  driver = new WebDriver(`http://127.0.0.1:${port}`);
  await driver.start(application);
});

after(async () => {
  await driver?.quit();
  for (const child of children.reverse()) child.kill("SIGTERM");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("demo app shows OutOfSync, Sync makes it Synced, and the cluster has the Deployment", async () => {
  const tile = await driver.waitFor('button[aria-label="Open guestbook"] [data-status]', "the guestbook tile with a status");
  assert.equal(await driver.attribute(tile, "data-status"), "OutOfSync");
  const banner = await driver.waitFor(".demo-banner", "the demo banner");
  assert.match(await driver.text(banner), /Demo sandbox/);
  screenshot("overview");

  await driver.click(await driver.waitFor('button[aria-label="Open guestbook"]', "the tile"));
  const header = await driver.waitFor(".app-actions [data-status]", "the app status");
  assert.equal(await driver.attribute(header, "data-status"), "OutOfSync");
  await driver.click(await driver.waitFor('button[aria-label="Diff Deployment.apps guestbook/guestbook-ui"]', "the Deployment row"));
  const inserted = await driver.waitFor(".diff-insert", "a changed line in the diff", {
    accept: async (e) => (await driver.text(e)).includes("replicas: 2"),
  });
  assert.ok(inserted);
  screenshot("diff");

  const syncButton = await driver.waitFor(".app-actions button.primary", "the Sync button");
  assert.equal(await driver.text(syncButton), "Sync");
  await driver.click(syncButton);
  const result = await driver.waitFor('[aria-label="Sync result"]', "the sync result", { timeout: 30_000 });
  assert.match(await driver.text(result), /Sync succeeded: 4 synced/);
  await driver.waitFor(".app-actions [data-status]", "the status Synced", {
    accept: async (e) => (await driver.attribute(e, "data-status")) === "Synced",
  });
  screenshot("synced");

  const deployment = JSON.parse(kubectl("get", "deployment", "guestbook-ui", "-n", "guestbook", "-o", "json"));
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.template.spec.containers[0].image, "nginx:1.27");
  assert.equal(
    deployment.metadata.annotations["plumbline.dev/tracking-id"],
    "guestbook:apps/Deployment:guestbook/guestbook-ui",
  );
  assert.match(kubectl("get", "services", "-n", "guestbook"), /guestbook-ui/);
});
