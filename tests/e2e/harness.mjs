// Shared set-up for the desktop end-to-end tests: Xvfb on a display it picks itself,
// tauri-driver on free loopback ports, and clean-up of every process a test started.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { WebDriver } from "./webdriver.mjs";

export const root = resolve(import.meta.dirname, "../..");
export const application = process.env.PLUMBLINE_BINARY ?? join(root, "target/debug/plumbline-desktop");

export class Desktop {
  constructor() {
    this.children = [];
    this.display = null;
  }

  /** Starts Xvfb once; later calls reuse it. */
  async startDisplay() {
    if (this.display) return this.display;
    if (!existsSync(application)) throw new Error(`${application} is missing: build it with \`make app\``);
    this.display = await new Promise((resolveDisplay, reject) => {
      const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
        stdio: ["ignore", "inherit", "inherit", "pipe"],
      });
      this.children.push(xvfb);
      let out = "";
      xvfb.stdio[3].on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolveDisplay(`:${out.trim()}`);
      });
      xvfb.on("error", reject);
      xvfb.on("exit", (code) => reject(new Error(`Xvfb exited with ${code} before it was ready`)));
    });
    return this.display;
  }

  /** Starts tauri-driver with `env` for the app, opens the app, and returns the WebDriver. */
  async open(env) {
    const display = await this.startDisplay();
    const port = await freePort();
    const nativePort = await freePort();
    const driverProcess = this.spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
      DISPLAY: display,
      ...env,
    });
    await waitForHttp(`http://127.0.0.1:${port}/status`, "tauri-driver");
    const driver = new WebDriver(`http://127.0.0.1:${port}`);
    await driver.start(application);
    driver.process = driverProcess;
    return driver;
  }

  /** Ends the app's session and its tauri-driver. */
  async close(driver) {
    await driver.quit();
    driver.process.kill("SIGTERM");
  }

  spawn(command, args, env, stdio = ["ignore", "inherit", "inherit"]) {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio });
    this.children.push(child);
    return child;
  }

  /** Saves a picture of the Plumbline window when SCREENSHOT_DIR is set. */
  screenshot(name) {
    const dir = process.env.SCREENSHOT_DIR;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const env = { ...process.env, DISPLAY: this.display };
    // The DOM can be ahead of what WebKitGTK has painted; give it a moment to draw.
    execFileSync("sleep", ["0.7"]);
    const window = execFileSync("xdotool", ["search", "--onlyvisible", "--name", "^Plumbline$"], { env, encoding: "utf8" }).split("\n")[0];
    execFileSync("import", ["-window", window || "root", join(dir, `${name}.png`)], { env });
  }

  stop() {
    for (const child of this.children.reverse()) child.kill("SIGTERM");
  }
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
    server.on("error", reject);
  });
}

async function waitForHttp(url, what) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not answer at ${url}`);
}
