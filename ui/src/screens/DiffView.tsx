import { useState } from "react";
import type { DiffLine, ResourceDiff } from "../backend";
import { collapseUnchanged, emphasised, resourceLabel, splitRows, type DiffRow } from "../format";

function Text({ line }: { line: DiffLine }) {
  return (
    <>
      <span className="visually-hidden">
        {line.change === "Insert" ? "added: " : line.change === "Delete" ? "removed: " : ""}
      </span>
      {emphasised(line).map((part, i) => (part.mark ? <mark key={i}>{part.text}</mark> : part.text))}
    </>
  );
}

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
        <Text line={line} />
      </td>
    </tr>
  );
}

function Side({ line, number }: { line: DiffLine | null; number: number | null }) {
  if (!line) return <td className="diff-none" colSpan={2} />;
  return (
    <>
      <td className="diff-num">{number ?? ""}</td>
      <td className={`diff-text diff-${line.change.toLowerCase()}`}>
        <Text line={line} />
      </td>
    </>
  );
}

function Gap({ count, columns, onShow }: { count: number; columns: number; onShow: () => void }) {
  return (
    <tr className="diff-gap">
      <td colSpan={columns}>
        <button type="button" onClick={onShow}>
          Show {count} unchanged lines
        </button>
      </td>
    </tr>
  );
}

/** Folded runs the user opened are shown line by line. */
function expand(rows: DiffRow[], opened: Set<number>): DiffRow[] {
  return rows.flatMap((row, index): DiffRow[] =>
    row.type === "gap" && opened.has(index) ? row.hidden.map((line) => ({ type: "line", line })) : [row],
  );
}

/**
 * One resource's diff, live against desired: unified or split, changed words highlighted,
 * unchanged runs folded behind a button.
 */
export function DiffView({ diff, title }: { diff: ResourceDiff; title?: string }) {
  const [opened, setOpened] = useState<Set<number>>(new Set());
  const [split, setSplit] = useState(false);
  const collapsed = collapseUnchanged(diff.lines);
  const changed = diff.lines.filter((l) => l.change !== "Equal").length;
  const open = (index: number) => setOpened(new Set(opened).add(index));
  // Gaps keep their index in `collapsed`, so opening one works in either layout.
  const rows = collapsed.map((row, index) => ({ row, index }));
  const label = title ?? resourceLabel(diff.key);
  return (
    <section className="diff" aria-label={`Diff of ${label}`}>
      <header className="diff-header">
        <h2>{label}</h2>
        <span className="diff-legend">
          <span className="diff-legend-delete">− live</span> <span className="diff-legend-insert">+ desired</span>
        </span>
        <span className="diff-layout" role="group" aria-label="Diff layout">
          <button type="button" aria-pressed={!split} onClick={() => setSplit(false)}>
            Unified
          </button>
          <button type="button" aria-pressed={split} onClick={() => setSplit(true)}>
            Split
          </button>
        </span>
      </header>
      {diff.note && <p className="notice notice-info">{diff.note}</p>}
      {changed === 0 ? (
        <p className="empty">No differences: the live object matches Git.</p>
      ) : split ? (
        <table className="diff-table diff-split">
          <tbody>
            {splitRows(expand(collapsed, opened)).map((row, i) =>
              row.type === "pair" ? (
                <tr key={i}>
                  <Side line={row.left} number={row.left?.oldLine ?? null} />
                  <Side line={row.right} number={row.right?.newLine ?? null} />
                </tr>
              ) : (
                <Gap
                  key={i}
                  count={row.hidden.length}
                  columns={4}
                  onShow={() => open(collapsed.findIndex((r) => r === row))}
                />
              ),
            )}
          </tbody>
        </table>
      ) : (
        <table className="diff-table">
          <tbody>
            {rows.map(({ row, index }) =>
              row.type === "line" ? (
                <Line key={index} line={row.line} />
              ) : opened.has(index) ? (
                row.hidden.map((line, j) => <Line key={`${index}-${j}`} line={line} />)
              ) : (
                <Gap key={index} count={row.hidden.length} columns={4} onShow={() => open(index)} />
              ),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
