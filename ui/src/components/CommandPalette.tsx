import { useEffect, useRef, useState } from "react";

/** One thing the palette can do. */
export interface Command {
  id: string;
  label: string;
  /** A word shown beside the label: "app", "context", "go to", "action". */
  group: string;
  run: () => void;
}

/**
 * Ctrl/Cmd+K: type to narrow, arrows to choose, Enter to run, Esc to close. Every command is an
 * option of a listbox, so screen readers hear what is chosen.
 */
export function CommandPalette({ commands, onClose }: { commands: Command[]; onClose: () => void }) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = commands.filter((c) => words.every((w) => `${c.group} ${c.label}`.toLowerCase().includes(w)));
  const chosen = Math.min(active, Math.max(shown.length - 1, 0));
  const run = (command: Command | undefined) => {
    if (!command) return;
    onClose();
    command.run();
  };
  return (
    <div className="palette-backdrop" onMouseDown={onClose}>
      <div
        className="palette"
        role="dialog"
        aria-modal="true"
        aria-label="Command palette"
        onMouseDown={(e) => e.stopPropagation()}
      >
        <input
          ref={input}
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-options"
          aria-activedescendant={shown[chosen] ? `palette-${shown[chosen].id}` : undefined}
          aria-label="Command"
          placeholder="Go to an app, a context, or do something…"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") setActive((chosen + 1) % Math.max(shown.length, 1));
            else if (e.key === "ArrowUp") setActive((chosen - 1 + shown.length) % Math.max(shown.length, 1));
            else if (e.key === "Enter") run(shown[chosen]);
            else if (e.key === "Escape") onClose();
            else return;
            e.preventDefault();
          }}
        />
        <ul id="palette-options" role="listbox" aria-label="Commands">
          {shown.map((c, i) => (
            <li
              key={c.id}
              id={`palette-${c.id}`}
              role="option"
              aria-selected={i === chosen}
              onMouseEnter={() => setActive(i)}
              onClick={() => run(c)}
            >
              <span className="palette-group">{c.group}</span> {c.label}
            </li>
          ))}
          {shown.length === 0 && <li className="empty">Nothing matches “{query}”.</li>}
        </ul>
      </div>
    </div>
  );
}
