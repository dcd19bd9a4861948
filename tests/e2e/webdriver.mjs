// A small W3C WebDriver client for tauri-driver, over Node's fetch (keep-alive connections).

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async request(method, path, body) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(`${method} ${path}: ${json.value?.error ?? response.status}: ${json.value?.message ?? ""}`);
      error.webdriver = json.value?.error;
      throw error;
    }
    return json.value;
  }

  async start(application) {
    const value = await this.request("POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application } } },
    });
    this.session = value.sessionId;
  }

  async quit() {
    if (this.session) await this.request("DELETE", `/session/${this.session}`).catch(() => {});
    this.session = null;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async find(css) {
    const found = await this.request("POST", this.s("/elements"), { using: "css selector", value: css });
    return found.map((e) => e[ELEMENT]);
  }

  /** Waits until `css` matches an element for which `accept(element)` holds. */
  async waitFor(css, what, { timeout = 15_000, accept = async () => true } = {}) {
    const deadline = Date.now() + timeout;
    let last = "nothing matched";
    let shown = null;
    while (Date.now() < deadline) {
      try {
        const found = await this.find(css);
        if (found.length === 0) last = "nothing matched";
        for (const element of found) {
          if (await accept(element)) return element;
          last = `matched ${css} but not yet ${what}`;
          shown = element;
        }
      } catch (e) {
        last = e.message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Say what the window showed instead, so a failure in CI can be read without rerunning it.
    const seen = shown && (await this.text(shown).catch(() => null));
    const body = await this.find("main")
      .then(([main]) => (main ? this.text(main) : null))
      .catch(() => null);
    const showed = [seen && `last match read ${JSON.stringify(seen)}`, body && `the page read ${JSON.stringify(body)}`];
    throw new Error(
      `timed out after ${timeout} ms waiting for ${what} (${[last, ...showed.filter(Boolean)].join("; ")})`,
    );
  }

  /** Runs `script` in the page (its `arguments` are `args`) and returns what it returns. */
  execute(script, args = []) {
    return this.request("POST", this.s("/execute/sync"), { script, args });
  }

  /** Runs `script`, which calls its last argument with the result when it is done. */
  executeAsync(script, args = []) {
    return this.request("POST", this.s("/execute/async"), { script, args });
  }

  click(element) {
    return this.request("POST", this.s(`/element/${element}/click`), {});
  }

  /**
   * Clicks the element `css` matches once it can be clicked: a node of the graph that is still
   * moving into place (the view fits itself as nodes come) is "not interactable" for a moment.
   */
  async clickWhenReady(css, what, { timeout = 15_000 } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const element = await this.waitFor(css, what, { timeout });
      try {
        return await this.click(element);
      } catch (e) {
        if (!/not interactable|stale element/.test(e.message)) throw e;
        if (Date.now() > deadline) throw new Error(`${e.message} (${await this.whereIs(element)})`);
        // Below the window's edge inside a pane that does not scroll: bring it into view.
        await this.execute("arguments[0].scrollIntoView({ block: 'center' })", [{ [ELEMENT]: element }]).catch(
          () => undefined,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Where `element` is, beside the window and the graph pane it may be in: for a failure's message. */
  async whereIs(element) {
    const script = `const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect();
        return [r.left, r.top, r.width, r.height].map(Math.round).join(","); };
      const e = arguments[0];
      const at = document.elementFromPoint(...(() => { const r = e.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; })());
      return "element " + box(e) + ", graph pane " + box(e.closest(".react-flow")) + ", window " +
        innerWidth + "x" + innerHeight + " scrolled " + scrollY + ", at its centre " +
        (at ? at.tagName + "." + at.className : "nothing");`;
    return this.execute(script, [{ [ELEMENT]: element }]).catch((e) => `not readable: ${e.message}`);
  }

  text(element) {
    return this.request("GET", this.s(`/element/${element}/text`));
  }

  attribute(element, name) {
    return this.request("GET", this.s(`/element/${element}/attribute/${name}`));
  }
}
