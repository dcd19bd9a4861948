// The figures of Plumbline keeping watch, in the real window (release build, WebKitGTK under
// Xvfb, driven through tauri-driver), against kube-sandbox clusters on 127.0.0.1:
//   1. Start with 50 contexts of which 45 are dead (40 refuse connections, 5 accept and never
//      answer), 20 apps on the 5 live ones and one on each dead one: from the process's start to
//      the first tile in the page, to every live app's tile final, to every tile final but those
//      of the silent contexts, and to all (the silent ones are known dead only when the probe's
//      5 s run out). Three launches.
//   2. 200 applications across 10 contexts (a Deployment and three ConfigMaps each) and one of
//      2,000 resources, its page open on the tree; 20 objects change a second for
//      PLUMBLINE_BENCH_CHURN_S seconds (600): the app process's CPU, the whole app's memory (the
//      Plumbline process and WebKit's, PSS summed) at 1, 5 and 10 minutes, and the connections it
//      holds to each cluster (one per watched kind, and one for requests).
//   3. Then, on the overview, still under the churn: from a change by hand to its app's tile
//      saying OutOfSync, twenty times; then the churn stopped, the CPU of a minute idle.
// Run by `make bench-watching` (part of `make bench`).
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const release = (name) => join(root, "target/release", name);
process.env.PLUMBLINE_BINARY ??= release("plumbline-desktop");
const { Desktop, freePort, application } =
  await import("../tests/e2e/harness.mjs");
const { memory, quantile } = await import("./processes.mjs");

const CONTEXTS = 10;
const APPS = 200;
const BIG_CONFIGMAPS = 1500;
const BIG_DEPLOYMENTS = 250;
const CHANGES_PER_SECOND = 20;
const CHURN_SECONDS = Number(process.env.PLUMBLINE_BENCH_CHURN_S ?? 600);
const IDLE_SECONDS = 60;
/** Apps the churn leaves alone, for the latency samples. */
const QUIET_APPS = 20;
const TICKS_PER_SECOND = 100; // Linux's USER_HZ

const desktop = new Desktop();
const work = mkdtempSync(join(tmpdir(), "plumbline-bench-watching-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what, timeout = 120_000) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A kube-sandbox on its own port; its server, CA and admin token, and a kubeconfig whose
 *  cluster, user and context are all called `name` (so that fifty merge without clashing). */
async function sandbox(name) {
  const out = join(work, `${name}.raw`);
  desktop.spawn(
    release("kube-sandbox"),
    ["--kubeconfig-out", out, "--context", name],
    {},
    ["ignore", "ignore", "inherit"],
  );
  await until(() => existsSync(out), `sandbox ${name}`);
  await sleep(50);
  const raw = readFileSync(out, "utf8");
  const server = /server: (\S+)/.exec(raw)[1];
  const ca = /certificate-authority-data: (\S+)/.exec(raw)[1];
  const token = /token: (\S+)/.exec(raw)[1];
  return { name, server, ca, token, port: Number(new URL(server).port) };
}

function kubeconfig(file, clusters) {
  const lines = ["apiVersion: v1", "kind: Config", "clusters:"];
  for (const c of clusters) {
    lines.push(`- name: ${c.name}`, "  cluster:", `    server: ${c.server}`);
    lines.push(
      c.ca
        ? `    certificate-authority-data: ${c.ca}`
        : "    insecure-skip-tls-verify: true",
    );
  }
  lines.push("users:");
  for (const c of clusters)
    lines.push(
      `- name: ${c.name}`,
      "  user:",
      `    token: ${c.token ?? "none"}`,
    );
  lines.push("contexts:");
  for (const c of clusters)
    lines.push(
      `- name: ${c.name}`,
      "  context:",
      `    cluster: ${c.name}`,
      `    user: ${c.name}`,
    );
  lines.push(`current-context: ${clusters[0].name}`, "");
  writeFileSync(file, lines.join("\n"), { mode: 0o600 });
}

/** A merge patch straight to a sandbox (no kubectl in between: this is the cluster's load). */
function patch(cluster, path, body) {
  return new Promise((resolvePatch, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      {
        method: "PATCH",
        ca: Buffer.from(cluster.ca, "base64"),
        headers: {
          authorization: `Bearer ${cluster.token}`,
          "content-type": "application/merge-patch+json",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode < 300
            ? resolvePatch()
            : reject(new Error(`${path}: ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** A port where nothing listens, and one that accepts connections and never says a word. */
async function deadPort() {
  return freePort();
}
async function hungPort() {
  const held = [];
  const server = createServer((socket) => held.push(socket));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    close: () => (held.forEach((s) => s.destroy()), server.close()),
  };
}

function git(repo, ...args) {
  execFileSync("git", ["-C", repo, ...args], { stdio: "ignore" });
}

function commitAll(repo, message) {
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", ".");
  git(
    repo,
    "-c",
    "user.name=Bench",
    "-c",
    "user.email=bench@localhost",
    "commit",
    "-q",
    "-m",
    message,
  );
}

function smallApp(dir) {
  mkdirSync(dir, { recursive: true });
  const docs = [0, 1, 2].map(
    (i) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\ndata:\n  tick: "0"\n`,
  );
  docs.push(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`);
  writeFileSync(join(dir, "app.yaml"), docs.join("---\n"));
}

function bigApp(dir) {
  mkdirSync(dir, { recursive: true });
  const docs = [];
  for (let i = 0; i < BIG_CONFIGMAPS; i++) {
    docs.push(
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\ndata:\n  tick: "0"\n`,
    );
  }
  for (let i = 0; i < BIG_DEPLOYMENTS; i++) {
    docs.push(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web-${i}}\n  template:\n    metadata:\n      labels: {app: web-${i}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n`,
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: web-${i}\nspec:\n  selector: {app: web-${i}}\n  ports:\n  - port: 80\n`,
    );
  }
  for (let f = 0; f * 100 < docs.length; f++) {
    writeFileSync(
      join(dir, `part-${String(f).padStart(2, "0")}.yaml`),
      docs.slice(f * 100, f * 100 + 100).join("---\n"),
    );
  }
}

/** The CLI against `config`, for setting up. */
function cli(env, ...args) {
  return execFileSync(release("plumbline"), args, {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: "pipe",
  });
}

/** Runs `count` CLI calls, `parallel` at a time. */
async function cliMany(env, argsOf, count, parallel = 4) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const args = argsOf(next++);
      await new Promise((resolveRun, reject) => {
        const child = spawn(release("plumbline"), args, {
          env: { ...process.env, ...env },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) =>
          code === 0
            ? resolveRun()
            : reject(new Error(`plumbline ${args.join(" ")}: ${err}`)),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** When the process started, in ms since the epoch (to the kernel's 10 ms tick). */
function processStart(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const boot = Number(
    /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))[1],
  );
  return boot * 1000 + (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU seconds used so far by the process itself (user + system). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The open TCP connections of `pid`, counted by the remote port. */
function connectionsByPort(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(
        readlinkSync(`/proc/${pid}/fd/${fd}`),
      );
      if (m) inodes.add(m[1]);
    } catch {
      // Closed while we looked.
    }
  }
  const counts = new Map();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "01" || !inodes.has(f[9])) continue; // 01: ESTABLISHED
      const port = parseInt(f[2].split(":")[1], 16);
      counts.set(port, (counts.get(port) ?? 0) + 1);
    }
  }
  return counts;
}

const appPid = () =>
  Number(
    execFileSync("pgrep", ["-n", "-x", "plumbline-deskt"], {
      encoding: "utf8",
    }).trim(),
  );

/** Part 1: launches with 45 of 50 contexts dead. */
async function deadContexts() {
  await desktop.startDisplay(); // shared with part 2: not one of this part's own
  const mine = desktop.children.length;
  const live = [];
  for (let i = 0; i < 5; i++) live.push(await sandbox(`live-${i}`));
  const hung = [];
  const dead = [];
  for (let i = 0; i < 45; i++) {
    if (i < 5) {
      const h = await hungPort();
      hung.push(h);
      dead.push({ name: `hung-${i}`, server: `https://127.0.0.1:${h.port}` });
    } else
      dead.push({
        name: `dead-${i}`,
        server: `https://127.0.0.1:${await deadPort()}`,
      });
  }
  const config = join(work, "dead.kubeconfig");
  kubeconfig(config, [...live, ...dead]);
  const repo = join(work, "small-repo");
  smallApp(join(repo, "app"));
  commitAll(repo, "small app");
  const data = join(work, "dead-data");
  const env = {
    KUBECONFIG: config,
    HOME: work,
    PLUMBLINE_DATA_DIR: data,
    PLUMBLINE_LOG: "warn",
  };
  const apps = [];
  for (let i = 0; i < 20; i++)
    apps.push({ name: `live-app-${i}`, context: live[i % 5].name, live: true });
  for (const d of dead)
    apps.push({ name: `on-${d.name}`, context: d.name, live: false });
  await cliMany(
    env,
    (i) => [
      "app",
      "add",
      apps[i].name,
      "--repo",
      repo,
      "--path",
      "app",
      "--context",
      apps[i].context,
      "--namespace",
      apps[i].name,
      "--create-namespace",
    ],
    apps.length,
  );
  await cliMany(env, (i) => ["sync", apps[i].name], 20);

  const runs = [];
  const hungNames = apps
    .filter((a) => a.context.startsWith("hung-"))
    .map((a) => a.name);
  for (let run = 0; run < 3; run++) {
    const driver = await desktop.open(env);
    try {
      // Wall-clock times (ms since the epoch) the page saw each moment, checked every frame.
      const seen = await driver.executeAsync(
        `
        const [liveNames, hungNames, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
        const out = { page: Math.round(performance.timeOrigin) };
        const check = () => {
          const now = Date.now();
          if (out.rail === undefined && document.querySelector('nav.rail')) out.rail = now;
          const tiles = [...document.querySelectorAll('li.tile')];
          const name = (t) => t.querySelector('.tile-name')?.textContent;
          const final = (t) => !t.querySelector('.skeleton');
          if (tiles.length && out.first === undefined) out.first = now;
          const live = tiles.filter((t) => liveNames.includes(name(t)));
          if (out.live === undefined && live.length === liveNames.length && live.every(final)) out.live = now;
          const answered = tiles.filter((t) => !hungNames.includes(name(t)));
          if (out.refused === undefined && tiles.length === ${apps.length} && answered.every(final)) out.refused = now;
          if (out.all === undefined && tiles.length === ${apps.length} && tiles.every(final)) out.all = now;
          if (out.all !== undefined && out.live !== undefined && out.refused !== undefined) done(out); else requestAnimationFrame(check);
        };
        check();
      `,
        [apps.filter((a) => a.live).map((a) => a.name), hungNames],
      );
      const started = processStart(appPid());
      const times = Object.fromEntries(
        Object.entries(seen).map(([k, t]) => [k, t - started]),
      );
      runs.push(times);
      console.log(
        `launch ${run + 1}, from the process's start: page loading ${times.page} ms, rail ${times.rail} ms, first tile ${times.first} ms, the 20 live apps final ${times.live} ms, ` +
          `every tile but the 5 silent contexts' final ${times.refused} ms, all 65 final ${times.all} ms`,
      );
    } finally {
      await desktop.close(driver);
    }
  }
  const median = (k, from = () => 0) =>
    quantile(
      runs.map((r) => r[k] - from(r)),
      0.5,
    );
  const page = (r) => r.page;
  console.log(
    `start with 45 of 50 contexts dead (40 refuse, 5 accept and never answer; median of 3): from the process's start, ` +
      `first tile ${median("first")} ms, live apps final ${median("live")} ms, every tile but the silent contexts' final ` +
      `${median("refused")} ms, every tile final ${median("all")} ms; from the page's start (WebKit's own start left out), ` +
      `rail painted ${median("rail", page)} ms, first tile ${median("first", page)} ms, live apps final ${median("live", page)} ms, ` +
      `every tile but the silent contexts' final ${median("refused", page)} ms`,
  );
  hung.forEach((h) => h.close());
  // Its sandboxes stop: part 2 has its own.
  for (const child of desktop.children.splice(mine)) child.kill("SIGTERM");
}

/** Parts 2 and 3: 200 apps on 10 contexts and a 2,000-resource one, under a steady churn. */
async function underChurn() {
  const clusters = [];
  for (let i = 0; i < CONTEXTS; i++) clusters.push(await sandbox(`ctx-${i}`));
  const config = join(work, "churn.kubeconfig");
  kubeconfig(config, clusters);
  const repo = join(work, "repo");
  smallApp(join(repo, "small"));
  bigApp(join(repo, "big"));
  commitAll(repo, "200 small apps and a big one");
  const data = join(work, "churn-data");
  const env = {
    KUBECONFIG: config,
    HOME: work,
    PLUMBLINE_DATA_DIR: data,
    PLUMBLINE_LOG: "warn",
  };
  const apps = Array.from({ length: APPS }, (_, i) => ({
    name: `app-${String(i).padStart(3, "0")}`,
    cluster: clusters[i % CONTEXTS],
  }));
  let started = Date.now();
  await cliMany(
    env,
    (i) => [
      "app",
      "add",
      apps[i].name,
      "--repo",
      repo,
      "--path",
      "small",
      "--context",
      apps[i].cluster.name,
      "--namespace",
      apps[i].name,
      "--create-namespace",
    ],
    APPS,
  );
  cli(
    env,
    "app",
    "add",
    "big",
    "--repo",
    repo,
    "--path",
    "big",
    "--context",
    clusters[0].name,
    "--namespace",
    "big",
    "--create-namespace",
  );
  await cliMany(env, (i) => ["sync", apps[i].name], APPS);
  cli(env, "sync", "big");
  console.log(
    `setup: ${APPS} apps and one of 2,000 resources added and synced with the CLI in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  const driver = await desktop.open(env);
  try {
    await driver.request("POST", driver.s("/timeouts"), { script: 300_000 });
    await driver.click(
      await driver.waitFor(
        'button[aria-label="Open big"]',
        "the big app's tile",
        { timeout: 120_000 },
      ),
    );
    await driver.waitFor(".app-actions [data-status]", "its status", {
      timeout: 120_000,
    });
    await driver.click(
      await driver.waitFor(
        '[aria-label="Resources as"] button:nth-child(2)',
        "the Tree switch",
      ),
    );
    await driver.waitFor(
      '[aria-label="Resource tree"] .react-flow__node',
      "the tree",
    );
    await sleep(5000);
    const pid = appPid();

    // The churn: ConfigMaps of the big app and of the first 180 small apps, round robin.
    let tick = 0;
    let failed = 0;
    const churned = apps.slice(0, APPS - QUIET_APPS);
    const change = () => {
      tick++;
      const p =
        tick % 2
          ? patch(
              clusters[0],
              `/api/v1/namespaces/big/configmaps/settings-${tick % BIG_CONFIGMAPS}`,
              { data: { tick: String(tick) } },
            )
          : (() => {
              const app = churned[(tick >> 1) % churned.length];
              return patch(
                app.cluster,
                `/api/v1/namespaces/${app.name}/configmaps/settings-${tick % 3}`,
                { data: { tick: String(tick) } },
              );
            })();
      p.catch(() => failed++);
    };
    const churn = setInterval(change, 1000 / CHANGES_PER_SECOND);
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    const marks = [60, 300, 600].map((s) => Math.min(s, CHURN_SECONDS));
    for (const mark of [...new Set(marks)]) {
      await sleep(t0 + mark * 1000 - Date.now());
      const seconds = (Date.now() - t0) / 1000;
      console.log(
        `under churn for ${(seconds / 60).toFixed(1)} min (${tick} changes): app CPU ${((cpuSeconds(pid) - cpu0) / seconds).toFixed(3)} cores on average, ` +
          `whole app PSS ${memory(pid).pss.toFixed(0)} MiB`,
      );
    }
    const connections = connectionsByPort(pid);
    console.log(
      `connections to each cluster: ${clusters.map((c) => `${c.name} ${connections.get(c.port) ?? 0}`).join(", ")} ` +
        `(${clusters[0].name} holds the big app: ConfigMaps, Deployments, Services and what they make)`,
    );

    // Part 3: the overview, a change by hand to a quiet app, until its tile says OutOfSync.
    await driver.click(
      await driver.waitFor("button.rail-home", "the overview"),
    );
    await driver.waitFor(
      'li.tile [data-status="Synced"]',
      "the overview's tiles",
    );
    const latencies = [];
    for (const app of apps.slice(APPS - QUIET_APPS)) {
      await sleep(500);
      const began = Date.now();
      await patch(
        app.cluster,
        `/api/v1/namespaces/${app.name}/configmaps/settings-0`,
        { data: { tick: "by hand" } },
      );
      await driver.executeAsync(
        `
        const [name, done] = [arguments[0], arguments[arguments.length - 1]];
        const check = () => {
          const tile = document.querySelector('button[aria-label="Open ' + name + '"] [data-status]');
          if (tile && tile.getAttribute("data-status") === "OutOfSync") done(); else requestAnimationFrame(check);
        };
        check();
      `,
        [app.name],
      );
      latencies.push(Date.now() - began);
    }
    clearInterval(churn);
    console.log(
      `a change by hand until its tile says OutOfSync, under the churn: median ${quantile(latencies, 0.5)} ms, ` +
        `p95 ${quantile(latencies, 0.95)} ms, longest ${Math.max(...latencies)} ms (${latencies.length} changes; ${failed} churn patches failed)`,
    );
    await sleep(10_000);
    const idle0 = cpuSeconds(pid);
    await sleep(IDLE_SECONDS * 1000);
    console.log(
      `idle for ${IDLE_SECONDS} s on the overview, 201 apps watched: app CPU ${((cpuSeconds(pid) - idle0) / IDLE_SECONDS).toFixed(3)} cores, ` +
        `whole app PSS ${memory(pid).pss.toFixed(0)} MiB`,
    );
  } finally {
    await desktop.close(driver);
  }
}

async function main() {
  for (const binary of [
    application,
    release("plumbline"),
    release("kube-sandbox"),
  ]) {
    if (!existsSync(binary))
      throw new Error(`${binary} is missing: make bench builds it`);
  }
  if (process.env.PLUMBLINE_BENCH_PART !== "churn") await deadContexts();
  if (process.env.PLUMBLINE_BENCH_PART !== "start") await underChurn();
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    desktop.stop();
    rmSync(work, { recursive: true, force: true });
  });
