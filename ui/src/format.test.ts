import { describe, expect, it } from "vitest";
import type { AppSummary, DiffLine, SyncResult } from "./backend";
import {
  ago,
  appTone,
  clockTime,
  collapseUnchanged,
  describeAutomation,
  describeLastOperation,
  describeStale,
  emphasised,
  resourceLabel,
  splitRows,
  summarizeResult,
} from "./format";

const equal = (n: number): DiffLine => ({ change: "Equal", oldLine: n, newLine: n, text: `line ${n}`, emphasis: [] });
const insert = (n: number): DiffLine => ({
  change: "Insert",
  oldLine: null,
  newLine: n,
  text: `new ${n}`,
  emphasis: [],
});

describe("resourceLabel", () => {
  it("reads like kubectl, with the group for non-core kinds", () => {
    expect(resourceLabel({ group: "apps", kind: "Deployment", namespace: "web", name: "ui" })).toBe(
      "Deployment.apps web/ui",
    );
    expect(resourceLabel({ group: "", kind: "Namespace", namespace: "", name: "web" })).toBe("Namespace web");
  });
});

describe("collapseUnchanged", () => {
  it("folds a long unchanged run between changes, keeping context on both sides", () => {
    const lines = [insert(1), ...Array.from({ length: 20 }, (_, i) => equal(i + 2)), insert(22)];
    const rows = collapseUnchanged(lines, 3);
    const gap = rows.find((r) => r.type === "gap");
    expect(gap?.type === "gap" && gap.hidden.length).toBe(14);
    expect(rows.filter((r) => r.type === "line")).toHaveLength(2 + 6);
  });

  it("folds leading and trailing runs completely", () => {
    const lines = [...Array.from({ length: 10 }, (_, i) => equal(i + 1)), insert(11)];
    const rows = collapseUnchanged(lines, 3);
    expect(rows[0].type).toBe("gap");
    expect(rows.filter((r) => r.type === "line")).toHaveLength(4);
  });

  it("keeps short runs as they are", () => {
    const lines = [insert(1), equal(2), equal(3), insert(4)];
    expect(collapseUnchanged(lines, 3).every((r) => r.type === "line")).toBe(true);
  });
});

describe("summarizeResult", () => {
  it("counts each outcome and leaves out zeros", () => {
    const key = { group: "", kind: "ConfigMap", namespace: "a", name: "b" };
    const result: SyncResult = {
      phase: "Failed",
      commit: { sha: "abc", summary: "" },
      message: "",
      results: [
        { key, status: "Synced", message: "", phase: "Sync", wave: 0, hook: false },
        { key, status: "Synced", message: "", phase: "Sync", wave: 0, hook: false },
        { key, status: "SyncFailed", message: "", phase: "Sync", wave: 0, hook: false },
      ],
      log: [],
      missingNamespace: null,
    };
    expect(summarizeResult(result)).toBe("2 synced · 1 failed");
  });
});

describe("splitRows", () => {
  const line = (change: DiffLine["change"], text: string): DiffLine => ({
    change,
    oldLine: change === "Insert" ? null : 1,
    newLine: change === "Delete" ? null : 1,
    text,
    emphasis: [],
  });
  it("pairs each deleted line with the inserted line at the same place", () => {
    const rows = collapseUnchanged([
      line("Equal", "a"),
      line("Delete", "b"),
      line("Delete", "c"),
      line("Insert", "B"),
      line("Equal", "d"),
    ]);
    const pairs = splitRows(rows).map((r) =>
      r.type === "pair" ? [r.left?.text ?? null, r.right?.text ?? null] : "gap",
    );
    expect(pairs).toEqual([
      ["a", "a"],
      ["b", "B"],
      ["c", null],
      ["d", "d"],
    ]);
  });
});

describe("emphasised", () => {
  it("cuts a line at its emphasis, counting UTF-16 units", () => {
    const l: DiffLine = {
      change: "Insert",
      oldLine: null,
      newLine: 1,
      text: "image: café:1.27",
      emphasis: [{ start: 14, end: 16 }],
    };
    expect(emphasised(l)).toEqual([
      { text: "image: café:1.", mark: false },
      { text: "27", mark: true },
    ]);
  });
});

describe("last operation", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  it("says how long ago in words", () => {
    expect(ago("2026-11-26T11:59:30Z", now)).toBe("just now");
    expect(ago("2026-11-26T11:55:00Z", now)).toBe("5 min ago");
    expect(ago("2026-11-26T09:00:00Z", now)).toBe("3 h ago");
    expect(ago("2026-11-23T12:00:00Z", now)).toBe("3 days ago");
  });
  it("names the kind and the outcome", () => {
    const commit = { sha: "abc", summary: "" };
    expect(describeLastOperation({ kind: "Sync", phase: "Succeeded", at: "2026-11-26T11:55:00Z", commit }, now)).toBe(
      "synced 5 min ago",
    );
    expect(describeLastOperation({ kind: "AutoSync", phase: "Failed", at: "2026-11-26T10:00:00Z", commit }, now)).toBe(
      "automated sync failed 2 h ago",
    );
    expect(describeLastOperation({ kind: "Rollback", phase: "Running", at: "2026-11-26T12:00:00Z", commit }, now)).toBe(
      "rollback running since just now",
    );
    expect(describeLastOperation({ kind: "Sync", phase: "Interrupted", at: "2026-11-26T11:00:00Z", commit }, now)).toBe(
      "sync interrupted 1 h ago",
    );
  });
});

describe("stale and automated apps", () => {
  const now = new Date(2026, 10, 30, 15, 0).getTime();
  const since = new Date(2026, 10, 30, 14, 2).toISOString();

  it("says when a cluster stopped answering, in local time", () => {
    expect(clockTime(since, now)).toBe("14:02");
    expect(clockTime(new Date(2026, 10, 29, 9, 5).toISOString(), now)).toBe("29 Nov 09:05");
    expect(describeStale({ since, reason: "the cluster does not answer: connection refused" }, now)).toBe(
      "cluster unreachable since 14:02",
    );
    expect(describeStale({ since, reason: "the cluster refused the credentials: Unauthorized" }, now)).toBe(
      "cluster unusable since 14:02",
    );
  });

  it("names the automation an app runs with", () => {
    const app = (automated: { prune: boolean; selfHeal: boolean } | null) =>
      ({ syncPolicy: { automated, createNamespace: false } }) as Parameters<typeof describeAutomation>[0];
    expect(describeAutomation(app(null))).toBeNull();
    expect(describeAutomation(app({ prune: false, selfHeal: false }))).toBe("Auto-sync");
    expect(describeAutomation(app({ prune: true, selfHeal: true }))).toBe("Auto-sync · prune · self-heal");
    expect(describeAutomation(app({ prune: false, selfHeal: true }))).toBe("Auto-sync · self-heal");
  });

  it("gives the rail a tone that never shows a stale app as current", () => {
    const summary = (over: Partial<AppSummary>): AppSummary => ({
      app: {} as AppSummary["app"],
      sync: "Synced",
      health: "Healthy",
      commit: null,
      error: null,
      lastOperation: null,
      stale: null,
      outOfSync: 0,
      resources: 3,
      ...over,
    });
    expect(appTone(undefined).tone).toBe("muted");
    expect(appTone(summary({})).tone).toBe("ok");
    expect(appTone(summary({ sync: "OutOfSync" })).tone).toBe("warn");
    expect(appTone(summary({ health: "Degraded" })).tone).toBe("bad");
    const stale = appTone(summary({ stale: { since, reason: "the cluster does not answer: refused" } }));
    expect(stale.tone).toBe("muted");
    expect(stale.label).toContain("last known Synced");
  });
});
