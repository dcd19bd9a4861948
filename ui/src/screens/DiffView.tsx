import { useState } from "react";
import type { DiffLine, ResourceDiff } from "../backend";
import { collapseUnchanged, resourceLabel } from "../format";

function Line({ line }: { line: DiffLine }) {
  const sign = line.change === "Insert" ? "+" : line.change === "Delete" ? "-" : " ";
  return (
    <tr className={`diff-${line.change.toLowerCase()}`}>
      <td className="diff-num">{line.oldLine ?? ""}</td>
      <td className="diff-num">{line.newLine ?? ""}</td>
      <td className="diff-sign" aria-hidden="true">
        {sign}
      </td>
      <td className="diff-text">
        <span className="visually-hidden">
          {line.change === "Insert" ? "added: " : line.change === "Delete" ? "removed: " : ""}
        </span>
        {line.text}
      </td>
    </tr>
  );
}

/** One resource's diff, live on the left of each line pair, desired after; unchanged runs folded. */
export function DiffView({ diff }: { diff: ResourceDiff }) {
  const [expanded, setExpanded] = useState<Set<number>>(new Set());
  const rows = collapseUnchanged(diff.lines);
  const changed = diff.lines.filter((l) => l.change !== "Equal").length;
  return (
    <section className="diff" aria-label={`Diff of ${resourceLabel(diff.key)}`}>
      <header className="diff-header">
        <h2>{resourceLabel(diff.key)}</h2>
        <span className="diff-legend">
          <span className="diff-legend-delete">− live</span> <span className="diff-legend-insert">+ desired</span>
        </span>
      </header>
      {diff.note && <p className="notice notice-info">{diff.note}</p>}
      {changed === 0 ? (
        <p className="empty">No differences: the live object matches Git.</p>
      ) : (
        <table className="diff-table">
          <tbody>
            {rows.map((row, index) =>
              row.type === "line" ? (
                <Line key={index} line={row.line} />
              ) : expanded.has(index) ? (
                row.hidden.map((line, j) => <Line key={`${index}-${j}`} line={line} />)
              ) : (
                <tr key={index} className="diff-gap">
                  <td colSpan={4}>
                    <button type="button" onClick={() => setExpanded(new Set(expanded).add(index))}>
                      Show {row.hidden.length} unchanged lines
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
