// The desktop figures, in the real window (WebKitGTK under Xvfb, driven through tauri-driver),
// on a release build against a kube-sandbox cluster:
//   - an application of 2,000 resources (1,500 ConfigMaps, 250 Deployments, 250 Services; with
//     the sandbox's controllers, 250 ReplicaSets, Pods and Endpoints more in its tree): how long
//     from clicking Tree to the graph painted;
//   - while 50 objects change every second: the gaps between frames and how long the command
//     palette takes to open, ten times;
//   - then idle with that app open for ten minutes: the memory of the whole app (the Plumbline
//     process and WebKit's processes), proportional set size summed.
// Run by `make bench` (after `make bench-app`); PLUMBLINE_BENCH_IDLE_S shortens the idle wait.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const release = (name) => join(root, "target/release", name);
// The release build, not the debug one the end-to-end tests drive.
process.env.PLUMBLINE_BINARY ??= release("plumbline-desktop");
const { Desktop, freePort, application } =
  await import("../tests/e2e/harness.mjs");
const { memory, quantile } = await import("./processes.mjs");

const CONFIGMAPS = 1500;
const DEPLOYMENTS = 250;
const CHANGES_PER_SECOND = 50;
const CHURN_SECONDS = 10;
const IDLE_SECONDS = Number(process.env.PLUMBLINE_BENCH_IDLE_S ?? 600);

const desktop = new Desktop();
const work = mkdtempSync(join(tmpdir(), "plumbline-bench-desktop-"));

async function until(check, what, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function manifests(dir) {
  mkdirSync(dir, { recursive: true });
  const docs = [];
  for (let i = 0; i < CONFIGMAPS; i++) {
    docs.push(
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\ndata:\n  tick: "0"\n  mode: steady\n`,
    );
  }
  for (let i = 0; i < DEPLOYMENTS; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web-${i}}
  template:
    metadata:
      labels: {app: web-${i}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`);
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: web-${i}\nspec:\n  selector: {app: web-${i}}\n  ports:\n  - port: 80\n`,
    );
  }
  // Files of 100 documents each, as a real repository would split them.
  for (let f = 0; f * 100 < docs.length; f++) {
    writeFileSync(
      join(dir, `part-${String(f).padStart(2, "0")}.yaml`),
      docs.slice(f * 100, f * 100 + 100).join("---\n"),
    );
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
  console.log(`the app: ${application}`);
  const kubeconfig = join(work, "kubeconfig");
  desktop.spawn(
    release("kube-sandbox"),
    ["--kubeconfig-out", kubeconfig, "--context", "bench"],
    {},
    ["ignore", "ignore", "inherit"],
  );
  await until(() => existsSync(kubeconfig), "the sandbox");

  const repo = join(work, "deploy");
  manifests(join(repo, "big"));
  const git = (...args) =>
    execFileSync("git", ["-C", repo, ...args], { stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git(
    "-c",
    "user.name=Bench",
    "-c",
    "user.email=bench@localhost",
    "commit",
    "-q",
    "-m",
    "2,000 resources",
  );

  const data = join(work, "data");
  const env = {
    KUBECONFIG: kubeconfig,
    HOME: work,
    PLUMBLINE_DATA_DIR: data,
    PLUMBLINE_LOG: process.env.PLUMBLINE_LOG ?? "info",
  };
  const cli = (...args) =>
    execFileSync(release("plumbline"), args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
      stdio: "pipe",
    });
  cli(
    "app",
    "add",
    "big",
    "--repo",
    repo,
    "--path",
    "big",
    "--context",
    "bench",
    "--namespace",
    "big",
  );
  let started = Date.now();
  cli("sync", "big", "--create-namespace");
  console.log(
    `setup: 2,000 resources synced with the CLI in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  // 50 changes a second through kubectl proxy: each a merge patch of one ConfigMap's data.
  const proxyPort = await freePort();
  desktop.spawn(
    "kubectl",
    [
      "--kubeconfig",
      kubeconfig,
      "proxy",
      "--address",
      "127.0.0.1",
      "--port",
      String(proxyPort),
    ],
    {},
    ["ignore", "ignore", "inherit"],
  );
  await until(
    () =>
      fetch(`http://127.0.0.1:${proxyPort}/version`).then(
        () => true,
        () => false,
      ),
    "kubectl proxy",
  );
  let tick = 0;
  const change = () => {
    tick++;
    const name = `settings-${tick % CONFIGMAPS}`;
    return fetch(
      `http://127.0.0.1:${proxyPort}/api/v1/namespaces/big/configmaps/${name}`,
      {
        method: "PATCH",
        headers: { "content-type": "application/merge-patch+json" },
        body: JSON.stringify({ data: { tick: String(tick) } }),
      },
    ).then((r) => {
      if (!r.ok) throw new Error(`patch ${name}: ${r.status}`);
    });
  };

  const driver = await desktop.open(env);
  try {
    await driver.request("POST", driver.s("/timeouts"), { script: 120_000 });
    started = Date.now();
    await driver.click(
      await driver.waitFor('button[aria-label="Open big"]', "the app's tile", {
        timeout: 60_000,
      }),
    );
    await driver.waitFor(".app-actions [data-status]", "the app's status", {
      timeout: 60_000,
    });
    console.log(
      `app page with its status: ${Date.now() - started} ms after the click`,
    );

    // Tree open: from the click to the graph painted (two frames after its first node) from
    // this open's own answer. Each open starts from a fresh app page (the overview, then the
    // tile), so nothing the page kept is shown instead.
    const openTree = () =>
      driver.executeAsync(`
        const done = arguments[arguments.length - 1];
        const t0 = performance.now();
        document.querySelector('[aria-label="Resources as"] button:nth-child(2)').click();
        const check = () => {
          const region = document.querySelector('[aria-label="Resource tree"]');
          if (region && region.querySelector(".react-flow__node") && region.getAttribute("aria-busy") !== "true") {
            requestAnimationFrame(() => requestAnimationFrame(() =>
              done({ ms: performance.now() - t0, nodes: Number(region.dataset.nodes),
                     drawn: region.querySelectorAll(".react-flow__node").length })));
          } else requestAnimationFrame(check);
        };
        check();
      `);
    const opens = [];
    for (let i = 0; i < 5; i++) {
      await driver.click(
        await driver.waitFor("button.rail-home", "the overview button"),
      );
      await driver.click(
        await driver.waitFor('button[aria-label="Open big"]', "the app's tile"),
      );
      await driver.waitFor('table[aria-label="Resources"]', "the list");
      await driver.waitFor(".app-actions [data-status]", "the app's status", {
        timeout: 60_000,
      });
      opens.push(await openTree());
    }
    for (const o of opens)
      console.log(
        `tree open: ${o.ms.toFixed(0)} ms (${o.nodes} nodes in the graph, ${o.drawn} drawn)`,
      );
    // Back to the list and to the tree again, nothing changed: the page shows the answer it
    // kept at once and asks again behind it.
    await driver.click(
      await driver.waitFor(
        '[aria-label="Resources as"] button:nth-child(1)',
        "List",
      ),
    );
    await driver.waitFor('table[aria-label="Resources"]', "the list");
    const again = await driver.executeAsync(`
      const done = arguments[arguments.length - 1];
      const t0 = performance.now();
      document.querySelector('[aria-label="Resources as"] button:nth-child(2)').click();
      const check = () => {
        const region = document.querySelector('[aria-label="Resource tree"]');
        if (region && region.querySelector(".react-flow__node")) {
          requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
        } else requestAnimationFrame(check);
      };
      check();
    `);
    console.log(
      `tree re-opened with nothing changed (the kept answer): ${again.toFixed(0)} ms`,
    );
    await driver.waitFor(
      '[aria-label="Resource tree"][aria-busy="false"]',
      "the tree's own answer",
    );
    // Of which the engine's answer, through IPC, as the page sees it.
    const engine = await driver.executeAsync(`
      const done = arguments[arguments.length - 1];
      const times = [];
      const once = () => {
        const t0 = performance.now();
        window.__TAURI_INTERNALS__.invoke("app_view", { name: "big" }).then((view) => {
          times.push(performance.now() - t0);
          if (times.length < 3) once(); else done({ times, nodes: view.tree.length });
        }, (e) => done({ error: String(e) }));
      };
      once();
    `);
    console.log(
      `app_view (status and tree) through IPC: ${JSON.stringify(engine)}`,
    );

    // Responsiveness while 50 objects change every second: frame gaps and the palette.
    const churn = setInterval(() => {
      for (let i = 0; i < CHANGES_PER_SECOND / 10; i++)
        change().catch((e) => console.error(e.message));
    }, 100);
    const sampled = driver.executeAsync(
      `
      const done = arguments[arguments.length - 1];
      const gaps = [];
      let last = performance.now();
      const end = last + arguments[0] * 1000;
      const frame = (now) => {
        gaps.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(frame); else done(gaps);
      };
      requestAnimationFrame(frame);
    `,
      [CHURN_SECONDS],
    );
    const gaps = await sampled;
    const palette = [];
    for (let i = 0; i < 10; i++) {
      palette.push(
        await driver.executeAsync(`
          const done = arguments[arguments.length - 1];
          const t0 = performance.now();
          window.dispatchEvent(new KeyboardEvent("keydown", { key: "k", ctrlKey: true, bubbles: true }));
          const check = () => {
            if (document.querySelector('[role="dialog"][aria-label="Command palette"]')) {
              requestAnimationFrame(() => {
                const ms = performance.now() - t0;
                const input = document.querySelector('[aria-label="Command"]');
                input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
                const closed = () =>
                  document.querySelector('[aria-label="Command palette"]') ? requestAnimationFrame(closed) : done(ms);
                closed();
              });
            } else requestAnimationFrame(check);
          };
          check();
        `),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
    clearInterval(churn);
    console.log(
      `during ${tick} changes in ${CHURN_SECONDS + 4} s (${CHANGES_PER_SECOND}/s): frames ${gaps.length}, gap median ` +
        `${quantile(gaps, 0.5).toFixed(0)} ms, p95 ${quantile(gaps, 0.95).toFixed(0)} ms, longest ${Math.max(...gaps).toFixed(0)} ms; ` +
        `command palette open median ${quantile(palette, 0.5).toFixed(0)} ms, longest ${Math.max(...palette).toFixed(0)} ms`,
    );

    // A change in the cluster reaching the graph: a Deployment scaled by hand, until the
    // "250 Deployments" node counts it out of sync (pushed by the shell's watch, no polling).
    // Timed from Node: the patch goes through kubectl proxy and the check through WebDriver.
    // First on a quiet cluster (the last rollout settled), then back to back, each change
    // arriving while the last one's rollout (new Pods, their status) still refreshes the page.
    let scaled = 0;
    const reach = async () => {
      const started = Date.now();
      const name = `web-${scaled++}`;
      const patched = await fetch(
        `http://127.0.0.1:${proxyPort}/apis/apps/v1/namespaces/big/deployments/${name}`,
        {
          method: "PATCH",
          headers: { "content-type": "application/merge-patch+json" },
          body: JSON.stringify({ spec: { replicas: 2 } }),
        },
      );
      if (!patched.ok) throw new Error(`patch ${name}: ${patched.status}`);
      await driver.executeAsync(
        `
        const [want, done] = [arguments[0], arguments[arguments.length - 1]];
        const check = () => {
          const node = document.querySelector('.react-flow__node[aria-label="${DEPLOYMENTS} Deployments"]');
          if (node && node.textContent.includes(want)) done(); else requestAnimationFrame(check);
        };
        check();
      `,
        [`${scaled} out of sync`],
      );
      return Date.now() - started;
    };
    const report = (what, times) =>
      console.log(
        `a Deployment scaled by hand, until the graph counts it out of sync, ${what}: median ${quantile(times, 0.5)} ms, ` +
          `longest ${Math.max(...times)} ms (${times.join(", ")})`,
      );
    const quiet = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 4000));
      quiet.push(await reach());
    }
    report("on a quiet cluster", quiet);
    const busy = [];
    for (let i = 0; i < 5; i++) busy.push(await reach());
    report("back to back", busy);

    // Idle with the app open, its tree showing.
    // The process name, cut to the kernel's 15 characters.
    const app = Number(
      execFileSync("pgrep", ["-n", "-x", "plumbline-deskt"], {
        encoding: "utf8",
      }).trim(),
    );
    const first = memory(app);
    console.log(
      `memory after the churn: PSS ${first.pss.toFixed(0)} MiB, RSS ${first.rss.toFixed(0)} MiB (${first.names.join(", ")})`,
    );
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = memory(app);
    console.log(
      `memory after ${(IDLE_SECONDS / 60).toFixed(1)} min idle with the app open: PSS ${idle.pss.toFixed(0)} MiB, RSS ${idle.rss.toFixed(0)} MiB ` +
        `(${idle.names.length} processes: ${idle.names.join(", ")})`,
    );
  } finally {
    await desktop.close(driver);
  }
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
