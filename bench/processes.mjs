// What the benchmarks read of a running app from /proc: its process tree and memory.
import { readFileSync, readdirSync } from "node:fs";

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Every process under `pid`, itself included. */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const all = [];
  const visit = (p) => {
    all.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return all;
}

/** PSS and RSS in MiB of the app's processes, with their names. */
export function memory(pid) {
  let pss = 0;
  let rss = 0;
  const names = [];
  for (const p of processTree(pid)) {
    try {
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, "utf8");
      const own = Number(/^Pss:\s+(\d+)/m.exec(rollup)[1]);
      pss += own;
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)[1]);
      names.push(
        `${readFileSync(`/proc/${p}/comm`, "utf8").trim()} ${(own / 1024).toFixed(0)} MiB`,
      );
    } catch {
      // Gone, or not ours to read.
    }
  }
  return { pss: pss / 1024, rss: rss / 1024, names };
}
