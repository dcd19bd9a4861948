// Desktop end-to-end with a private repository: git http-backend behind lighttpd with basic auth
// on loopback, the real Secret Service (scripts/with-keyring.sh), and a kube-sandbox cluster.
// A wrong password is refused and asked again, the right one clones, an app on the repository
// syncs; then no file the app wrote (data folder, settings store, logs) holds either password.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Desktop, freePort, root } from "./harness.mjs";

const WRONG = "wrong-password-7Qx";
const RIGHT = "right-password-9Kz";
const desktop = new Desktop();
let work;
let env;
let url;

async function waitFor(check, what) {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const listening = (port) =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

before(async () => {
  work = mkdtempSync(join(tmpdir(), "plumbline-e2e-repo-"));
  const kubeconfig = join(work, "kubeconfig");
  desktop.spawn(join(root, "target/debug/kube-sandbox"), ["--kubeconfig-out", kubeconfig, "--context", "dev"], {}, [
    "ignore",
    "ignore",
    "inherit",
  ]);

  // The repository: one commit with a ConfigMap, served bare from srv/.
  const source = join(work, "source");
  mkdirSync(join(source, "apps/web"), { recursive: true });
  writeFileSync(
    join(source, "apps/web/cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-settings\ndata:\n  mode: private\n",
  );
  const git = (cwd, ...args) => execFileSync("git", ["-C", cwd, ...args], { stdio: "ignore" });
  git(source, "init", "-q", "-b", "main");
  git(source, "add", ".");
  git(source, "-c", "user.name=Test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "web settings");
  mkdirSync(join(work, "srv"));
  git(work, "clone", "-q", "--bare", source, join(work, "srv/deploy.git"));

  const port = await freePort();
  const backend = "/usr/lib/git-core/git-http-backend";
  writeFileSync(join(work, "users"), `ann:${RIGHT}\n`);
  writeFileSync(
    join(work, "lighttpd.conf"),
    `server.modules = ("mod_auth", "mod_authn_file", "mod_alias", "mod_cgi", "mod_setenv")
server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${work}/srv"
server.errorlog = "${work}/lighttpd-error.log"
auth.backend = "plain"
auth.backend.plain.userfile = "${work}/users"
auth.require = ("/private" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
alias.url = ("/private" => "${backend}")
$HTTP["url"] =~ "^/private" {
  cgi.assign = ("" => "")
  setenv.add-environment = ("GIT_PROJECT_ROOT" => "${work}/srv", "GIT_HTTP_EXPORT_ALL" => "")
}
`,
  );
  desktop.spawn("/usr/sbin/lighttpd", ["-D", "-f", join(work, "lighttpd.conf")], {});
  await waitFor(() => listening(port), "lighttpd");
  await waitFor(() => existsSync(kubeconfig), "the sandbox's kubeconfig");
  url = `http://127.0.0.1:${port}/private/deploy.git`;
  env = { KUBECONFIG: kubeconfig, HOME: work, PLUMBLINE_DATA_DIR: join(work, "data") };
});

after(() => {
  desktop.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir, needle) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesContaining(path, needle));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

test("a private repository: wrong password, right password, clone, sync; no secret in any file", async () => {
  const driver = await desktop.open(env);
  const type = async (css, text) => {
    const input = await driver.waitFor(css, css);
    await driver.request("POST", driver.s(`/element/${input}/clear`), {});
    await driver.request("POST", driver.s(`/element/${input}/value`), { text });
  };
  try {
    // Wait for the application list to load first: it moves the Repositories entry down.
    await driver.waitFor("nav p.rail-empty", "the rail's (empty) application list");
    await driver.click(await driver.waitFor("nav .rail-section", "the Repositories entry"));
    await driver.click(await driver.waitFor(".screen-header button.primary", "Add repository"));
    const form = 'form[aria-label="Add repository"]';
    await type(`${form} input[required]`, url);
    await driver.click(await driver.waitFor('#repo-auth option[value="https"]', "HTTPS authentication"));
    await type(`${form} input[placeholder="your user name"]`, "ann");
    await type("#repo-secret", WRONG);
    await driver.click(await driver.waitFor(`${form} button[type="submit"]`, "Add and fetch"));

    const prompt = 'form[aria-label="Credentials needed"]';
    const asked = await driver.waitFor(prompt, "the credential prompt", { timeout: 30_000 });
    assert.match(await driver.text(asked), /needs credentials/);
    await type(`${prompt} input`, RIGHT);
    await driver.click(await driver.waitFor(`${prompt} button[type="submit"]`, "Save to keyring and retry"));
    await driver.waitFor(".repo-card [role=status]", "the clone", {
      timeout: 30_000,
      accept: async (e) => (await driver.text(e)).includes("Cloned."),
    });
    desktop.screenshot("repositories");
    const card = await driver.text(await driver.waitFor(".repo-card", "the repository card"));
    assert.match(card, /stored in keyring/);
    assert.ok(!card.includes(RIGHT));

    await driver.click(await driver.waitFor(".rail-home", "Plumbline"));
    await driver.click(await driver.waitFor(".screen-header button.primary", "Add application"));
    const appForm = 'form[aria-label="Add application"]';
    await type(`${appForm} input[placeholder="guestbook"]`, "web");
    await type(`${appForm} input[list="added-repos"]`, url);
    await type(`${appForm} input[placeholder="apps/guestbook"]`, "apps/web");
    await driver.click(await driver.waitFor(`${appForm} button[type="submit"]`, "Add"));
    await driver.waitFor(".resources tbody tr", "the ConfigMap row", {
      accept: async (e) => (await driver.text(e)).includes("web-settings"),
    });
    await driver.click(await driver.waitFor(".app-actions button.primary", "the Sync button"));
    await driver.waitFor('[aria-label="Plan steps"] tbody tr', "the sync plan");
    await driver.click(await driver.waitFor('[aria-label="Sync plan"] button.primary', "Sync now"));
    await driver.waitFor('[aria-label="Sync result"]', "the sync result", { timeout: 30_000 });
    await driver.waitFor(".app-actions [data-status]", "the status Synced", {
      timeout: 30_000,
      accept: async (e) => (await driver.attribute(e, "data-status")) === "Synced",
    });
  } finally {
    await desktop.close(driver);
  }

  const data = env.PLUMBLINE_DATA_DIR;
  const stored = JSON.parse(readFileSync(join(data, "applications.json"), "utf8"));
  assert.deepEqual(stored.repositories, [{ url, auth: { method: "https", username: "ann" } }]);
  assert.ok(readdirSync(join(data, "logs")).length > 0, "the app wrote logs");
  for (const secret of [WRONG, RIGHT]) {
    assert.deepEqual(filesContaining(data, secret), [], `${secret} is in no file of the data folder`);
  }
  // The secret is in the Secret Service, under the debug build's own service name.
  const keyring = execFileSync("secret-tool", ["search", "--all", "service", "dev.plumbline.desktop.debug"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.match(keyring, new RegExp(`password for ${url.replaceAll(".", "\\.")}`));
});
