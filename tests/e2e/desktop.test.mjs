// Desktop end-to-end, demo mode: the real Plumbline window (WebKitGTK) under Xvfb, driven
// through tauri-driver and WebKitWebDriver. The outcome is checked in the cluster with kubectl,
// and desktop notifications in a real notification server (dunst) on the test's D-Bus session.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Desktop } from "./harness.mjs";

const desktop = new Desktop();
let dataDir;
let driver;

function kubectl(...args) {
  return execFileSync("kubectl", ["--kubeconfig", join(dataDir, "demo/kubeconfig"), ...args], { encoding: "utf8" });
}

function dunstctl(...args) {
  return execFileSync("dunstctl", args, { encoding: "utf8" }).trim();
}

/** What the notification server received and has closed (its history), oldest first. */
function notificationsReceived() {
  return JSON.parse(dunstctl("history"))
    .data[0].map((n) => ({ id: n.id.data, app: n.appname.data, summary: n.summary.data, body: n.body.data }))
    .reverse();
}

async function until(what, done, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A real notification server on this session's bus (scripts/with-keyring.sh gives each run its
 *  own), keeping every notification on screen until the test closes it. */
async function startNotificationServer() {
  const config = join(dataDir, "dunstrc");
  writeFileSync(
    config,
    "[global]\nicon_position = off\nidle_threshold = 0\nhistory_length = 100\n[urgency_low]\ntimeout = 0\n[urgency_normal]\ntimeout = 0\n[urgency_critical]\ntimeout = 0\n",
  );
  const display = await desktop.startDisplay();
  desktop.spawn("dunst", ["-config", config], { DISPLAY: display });
  await until("dunst on the session bus", () => {
    try {
      dunstctl("is-paused");
      return true;
    } catch {
      return false;
    }
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "plumbline-e2e-"));
  await startNotificationServer();
  driver = await desktop.open({ PLUMBLINE_DEMO: "1", PLUMBLINE_DATA_DIR: dataDir });
});

after(async () => {
  if (driver) await desktop.close(driver);
  desktop.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("demo app shows OutOfSync, Sync makes it Synced, and the cluster has the Deployment", async () => {
  const tile = await driver.waitFor('button[aria-label="Open guestbook"] [data-status]', "the guestbook tile with a status");
  assert.equal(await driver.attribute(tile, "data-status"), "OutOfSync");
  // Comparing the app connected to the demo cluster: the rail says so, pushed by the shell.
  await driver.waitFor('nav li.current .dot[aria-label^="connected v1."]', "the demo context shown connected");
  const banner = await driver.waitFor(".demo-banner", "the demo banner");
  assert.match(await driver.text(banner), /Demo sandbox/);
  desktop.screenshot("overview");

  await driver.click(await driver.waitFor('button[aria-label="Open guestbook"]', "the tile"));
  const header = await driver.waitFor(".app-actions [data-status]", "the app status");
  assert.equal(await driver.attribute(header, "data-status"), "OutOfSync");
  await driver.click(await driver.waitFor('button[aria-label="Diff Deployment.apps guestbook/guestbook-ui"]', "the Deployment row"));
  await driver.waitFor(".diff-insert", "the new replica count in the diff", {
    accept: async (e) => (await driver.text(e)).includes("replicas: 2"),
  });
  desktop.screenshot("diff");

  const syncButton = await driver.waitFor(".app-actions button.primary", "the Sync button");
  assert.equal(await driver.text(syncButton), "Sync");
  await driver.click(syncButton);
  // The plan comes first: what will change, in order, before anything does.
  await driver.waitFor('[aria-label="Plan steps"] tbody', "the sync plan", {
    accept: async (e) => (await driver.text(e)).includes("Deployment.apps guestbook/guestbook-ui"),
  });
  desktop.screenshot("sync-plan");
  await driver.click(await driver.waitFor('[aria-label="Sync plan"] button.primary', "Sync now"));
  const result = await driver.waitFor('[aria-label="Sync result"]', "the sync result", { timeout: 30_000 });
  assert.match(await driver.text(result), /Sync succeeded: 4 synced/);
  await driver.waitFor(".app-actions [data-status]", "the status Synced", {
    accept: async (e) => (await driver.attribute(e, "data-status")) === "Synced",
  });
  desktop.screenshot("synced");

  const deployment = JSON.parse(kubectl("get", "deployment", "guestbook-ui", "-n", "guestbook", "-o", "json"));
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.template.spec.containers[0].image, "nginx:1.27");
  assert.equal(
    deployment.metadata.annotations["plumbline.dev/tracking-id"],
    "guestbook:apps/Deployment:guestbook/guestbook-ui",
  );
  assert.match(kubectl("get", "services", "-n", "guestbook"), /guestbook-ui/);

  // The tree shows what the cluster made; a change made with kubectl reaches the window by
  // itself (the shell's watch), with no refresh.
  await driver.click(await driver.waitFor('[aria-label="Resources as"] button:nth-child(2)', "the Tree switch"));
  await driver.waitFor('[aria-label="Resource tree"]', "the tree with a ReplicaSet", {
    accept: async (e) => (await driver.text(e)).includes("ReplicaSet"),
  });
  desktop.screenshot("tree");
  kubectl("patch", "deployment", "guestbook-ui", "-n", "guestbook", "--type", "merge", "-p", '{"spec":{"replicas":4}}');
  // A ConfigMap carrying the app's tracking label but gone from Git: it needs pruning.
  execFileSync(
    "kubectl",
    ["--kubeconfig", join(dataDir, "demo/kubeconfig"), "apply", "--server-side", "--field-manager", "someone", "-f", "-"],
    {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: "stale-settings",
          namespace: "guestbook",
          annotations: { "plumbline.dev/tracking-id": "guestbook:/ConfigMap:guestbook/stale-settings" },
        },
        data: { old: "yes" },
      }),
    },
  );
  await driver.waitFor(".app-actions [data-status]", "the status OutOfSync, pushed", {
    timeout: 15_000,
    accept: async (e) => (await driver.attribute(e, "data-status")) === "OutOfSync",
  });
  // The tree follows: the Deployment's node turns OutOfSync and the extra ConfigMap appears.
  const treeNode = (label) => `[aria-label="Resource tree"] .react-flow__node[aria-label="${label}"]`;
  await driver.waitFor(`${treeNode("Deployment.apps guestbook/guestbook-ui")} [data-status]`, "the Deployment OutOfSync in the tree", {
    accept: async (e) => (await driver.attribute(e, "data-status")) === "OutOfSync",
  });
  await driver.waitFor(treeNode("ConfigMap guestbook/stale-settings"), "the ConfigMap to prune in the tree");

  // Review the diff from the tree: kubectl's 4 replicas against Git's 2.
  await driver.clickWhenReady('button[aria-label="Open Deployment.apps guestbook/guestbook-ui"]', "the Deployment node");
  await driver.waitFor('[role="tabpanel"] .diff-delete', "kubectl's replica count in the diff", {
    accept: async (e) => (await driver.text(e)).includes("replicas: 4"),
  });

  // Sync with prune (and force conflicts: kubectl now owns the replica count).
  await driver.click(await driver.waitFor(".app-actions button.primary", "the Sync button"));
  await driver.waitFor('[aria-label="Plan steps"] tbody', "the plan with the prune", {
    accept: async (e) => (await driver.text(e)).includes("stale-settings"),
  });
  const option = async (name) => {
    for (const label of await driver.find('[aria-label="Sync plan"] label.check')) {
      if ((await driver.text(label)).trim() === name) return driver.click(label);
    }
    throw new Error(`no option ${name}`);
  };
  await option("Prune");
  await option("Force conflicts");
  // Each option makes a new plan; Sync now waits for it.
  await driver.click(await driver.waitFor('[aria-label="Sync plan"] button.primary:not([disabled])', "Sync now, planned"));
  const pruned = await driver.waitFor('[aria-label="Sync result"]', "the sync result", { timeout: 30_000 });
  assert.match(await driver.text(pruned), /Sync succeeded: .*1 pruned/);
  await driver.waitFor(".app-actions [data-status]", "the status Synced again", {
    timeout: 30_000,
    accept: async (e) => (await driver.attribute(e, "data-status")) === "Synced",
  });
  assert.match(kubectl("get", "configmaps", "-n", "guestbook", "-o", "name"), /guestbook-config/);
  assert.doesNotMatch(kubectl("get", "configmaps", "-n", "guestbook", "-o", "name"), /stale-settings/);
  assert.equal(JSON.parse(kubectl("get", "deployment", "guestbook-ui", "-n", "guestbook", "-o", "json")).spec.replicas, 2);

  // A Pod from the tree: its log, streamed from the cluster.
  const pod = kubectl("get", "pods", "-n", "guestbook", "-o", "name").trim().split("\n")[0].replace("pod/", "");
  await driver.clickWhenReady(`button[aria-label="Open Pod guestbook/${pod}"]`, "a Pod in the tree");
  await driver.waitFor('[role="log"]', "the Pod's log", {
    accept: async (e) => (await driver.text(e)).includes("ui: ready"),
  });
});

test("a change made with kubectl turns the tile OutOfSync by itself, the desktop is told, and its click opens the app", async () => {
  const tileStatus = 'button[aria-label="Open guestbook"] [data-status]';
  await driver.click(await driver.waitFor("button.rail-home", "the way to the overview"));
  await driver.waitFor(tileStatus, "the guestbook tile Synced", {
    accept: async (e) => (await driver.attribute(e, "data-status")) === "Synced",
  });
  dunstctl("close-all");
  const seen = Math.max(0, ...notificationsReceived().map((n) => n.id));

  kubectl("patch", "deployment", "guestbook-ui", "-n", "guestbook", "--type", "merge", "-p", '{"spec":{"replicas":3}}');
  // No app is open and nothing is clicked: the engine's watch brings the change to the tile.
  await driver.waitFor(tileStatus, "the tile OutOfSync, with no click", {
    timeout: 10_000,
    accept: async (e) => (await driver.attribute(e, "data-status")) === "OutOfSync",
  });
  desktop.screenshot("tile-out-of-sync");

  // The notification server shows it; its click (the default action) opens the app.
  await until("a notification on screen", () => dunstctl("count", "displayed") !== "0");
  dunstctl("action", "0");
  await driver.waitFor(".app-actions [data-status]", "guestbook's page, opened by the notification", {
    accept: async (e) => (await driver.attribute(e, "data-status")) === "OutOfSync",
  });
  dunstctl("close-all");
  const received = notificationsReceived().filter((n) => n.id > seen);
  assert.ok(
    received.some(
      (n) => n.app === "Plumbline" && n.summary === "Plumbline: guestbook" && /guestbook is out of sync/.test(n.body),
    ),
    `the notification server received: ${JSON.stringify(received)}`,
  );
});
