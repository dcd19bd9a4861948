// Pure helpers for what the screens show; unit-tested in format.test.ts.
import type { AppSummary, Application, DiffLine, LastOperation, ResourceKey, Stale, SyncResult } from "./backend";

/** `Deployment guestbook/web`, `Namespace guestbook`: how kubectl users name a resource. */
export function resourceLabel(key: ResourceKey): string {
  const kind = key.group ? `${key.kind}.${key.group}` : key.kind;
  return key.namespace ? `${kind} ${key.namespace}/${key.name}` : `${kind} ${key.name}`;
}

/** A stable string id for a resource key, for React keys and lookups. */
export function keyId(key: ResourceKey): string {
  return `${key.group}/${key.kind}/${key.namespace}/${key.name}`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

const RESULT_WORDS: Record<SyncResult["results"][number]["status"], string> = {
  Synced: "synced",
  Pruned: "pruned",
  SyncFailed: "failed",
  PruneSkipped: "prune skipped",
  Skipped: "skipped",
};

/** "3 synced · 1 pruned · 1 failed · 2 skipped", leaving out zero counts. */
export function summarizeResult(result: SyncResult): string {
  const counts = new Map<string, number>();
  for (const r of result.results) {
    const word = RESULT_WORDS[r.status];
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return ["synced", "pruned", "failed", "prune skipped", "skipped"]
    .filter((w) => counts.has(w))
    .map((w) => `${counts.get(w)} ${w}`)
    .join(" · ");
}

export type DiffRow = { type: "line"; line: DiffLine } | { type: "gap"; hidden: DiffLine[] };

/**
 * Collapses runs of unchanged lines longer than `2 * context + 1`, keeping `context` lines
 * next to each change, so a reviewer sees the changes and where they are.
 */
export function collapseUnchanged(lines: DiffLine[], context = 3): DiffRow[] {
  const rows: DiffRow[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].change !== "Equal") {
      rows.push({ type: "line", line: lines[i] });
      i += 1;
      continue;
    }
    let end = i;
    while (end < lines.length && lines[end].change === "Equal") end += 1;
    const run = lines.slice(i, end);
    const keepBefore = i === 0 ? 0 : context;
    const keepAfter = end === lines.length ? 0 : context;
    if (run.length > keepBefore + keepAfter + 1) {
      run.slice(0, keepBefore).forEach((line) => rows.push({ type: "line", line }));
      rows.push({ type: "gap", hidden: run.slice(keepBefore, run.length - keepAfter) });
      run.slice(run.length - keepAfter).forEach((line) => rows.push({ type: "line", line }));
    } else {
      run.forEach((line) => rows.push({ type: "line", line }));
    }
    i = end;
  }
  return rows;
}

/** One row of a split diff: live on the left, desired on the right; or a fold. */
export type SplitRow =
  { type: "pair"; left: DiffLine | null; right: DiffLine | null } | { type: "gap"; hidden: DiffLine[] };

/**
 * Side by side: unchanged lines on both sides; each run of deletions paired line by line with
 * the insertions that follow it, so a changed line sits next to what it becomes.
 */
export function splitRows(rows: DiffRow[]): SplitRow[] {
  const out: SplitRow[] = [];
  let deleted: DiffLine[] = [];
  let inserted: DiffLine[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(deleted.length, inserted.length); i += 1)
      out.push({ type: "pair", left: deleted[i] ?? null, right: inserted[i] ?? null });
    deleted = [];
    inserted = [];
  };
  for (const row of rows) {
    if (row.type === "gap") {
      flush();
      out.push(row);
    } else if (row.line.change === "Delete") {
      if (inserted.length > 0) flush();
      deleted.push(row.line);
    } else if (row.line.change === "Insert") {
      inserted.push(row.line);
    } else {
      flush();
      out.push({ type: "pair", left: row.line, right: row.line });
    }
  }
  flush();
  return out;
}

/** A line's text cut into plain and emphasised parts (emphasis is in UTF-16 offsets, as JS strings are). */
export function emphasised(line: DiffLine): { text: string; mark: boolean }[] {
  const parts: { text: string; mark: boolean }[] = [];
  let at = 0;
  for (const span of line.emphasis) {
    if (span.start > at) parts.push({ text: line.text.slice(at, span.start), mark: false });
    parts.push({ text: line.text.slice(span.start, span.end), mark: true });
    at = span.end;
  }
  if (at < line.text.length || parts.length === 0) parts.push({ text: line.text.slice(at), mark: false });
  return parts;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago": how long ago an RFC 3339 time was. */
export function ago(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return "at an unknown time";
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** "synced 5 min ago", "automated sync failed 2 h ago", "rolled back just now". */
export function describeLastOperation(last: LastOperation, now: number = Date.now()): string {
  const verb = { Sync: "synced", AutoSync: "synced automatically", Rollback: "rolled back" }[last.kind];
  const what = { Sync: "sync", AutoSync: "automated sync", Rollback: "rollback" }[last.kind];
  const when = ago(last.at, now);
  if (last.phase === "Running") return `${what} running since ${when}`;
  if (last.phase === "Failed") return `${what} failed ${when}`;
  if (last.phase === "Interrupted") return `${what} interrupted ${when}`;
  return `${verb} ${when}`;
}

/** "14:02" today, "29 Nov 14:02" on another day: when something happened, in local time. */
export function clockTime(at: string, now: number = Date.now()): string {
  const when = new Date(at);
  const hhmm = `${String(when.getHours()).padStart(2, "0")}:${String(when.getMinutes()).padStart(2, "0")}`;
  if (new Date(now).toDateString() === when.toDateString()) return hhmm;
  const month = when.toLocaleString("en", { month: "short" });
  return `${when.getDate()} ${month} ${hhmm}`;
}

/** What a stale status says instead of being current: "cluster unreachable since 14:02". */
export function describeStale(stale: Stale, now: number = Date.now()): string {
  const since = clockTime(stale.since, now);
  if (stale.reason.startsWith("the cluster does not answer")) return `cluster unreachable since ${since}`;
  return `cluster unusable since ${since}`;
}

/** "Auto-sync · prune · self-heal", or null for an app synced by hand. */
export function describeAutomation(app: Application): string | null {
  const automated = app.syncPolicy.automated;
  if (!automated) return null;
  return ["Auto-sync", automated.prune && "prune", automated.selfHeal && "self-heal"].filter(Boolean).join(" · ");
}

/** A dot's tone and words for an app in the rail: stale and unknown are muted, trouble is bad. */
export function appTone(summary: AppSummary | undefined): { tone: "ok" | "bad" | "warn" | "muted"; label: string } {
  if (!summary) return { tone: "muted", label: "checking" };
  if (summary.stale) return { tone: "muted", label: `last known ${summary.sync}, ${describeStale(summary.stale)}` };
  if (summary.error || summary.sync === "Unknown") return { tone: "muted", label: "cannot be compared" };
  if (summary.health === "Degraded" || summary.health === "Missing")
    return { tone: "bad", label: `${summary.sync}, ${summary.health}` };
  if (summary.sync === "OutOfSync") return { tone: "warn", label: "OutOfSync" };
  return { tone: "ok", label: `${summary.sync}${summary.health ? `, ${summary.health}` : ""}` };
}
