import { useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ResourceKey, ResourceStatus } from "../backend";
import { HealthBadge } from "../components/HealthBadge";
import { StatusBadge } from "../components/StatusBadge";
import { keyId, resourceLabel } from "../format";

/** A row's height before it is measured (a row with a message is taller). */
const ROW_ESTIMATE = 34;

/**
 * The app's resources as a table. Only the rows in view are in the page, so an app with
 * thousands of resources scrolls as lightly as one with ten.
 */
export function ResourceList({
  resources,
  selected,
  onSelect,
  empty,
}: {
  resources: ResourceStatus[];
  selected: ResourceKey | null;
  onSelect: (key: ResourceKey) => void;
  empty: boolean;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  // The virtualizer re-renders this component as the list scrolls; nothing here is memoized.
  // eslint-disable-next-line react-hooks/incompatible-library
  const rows = useVirtualizer({
    count: resources.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_ESTIMATE,
    overscan: 12,
    getItemKey: (i) => keyId(resources[i].key),
  });
  const items = rows.getVirtualItems();
  const before = items.length > 0 ? items[0].start : 0;
  const after = items.length > 0 ? rows.getTotalSize() - items[items.length - 1].end : 0;
  const selectedId = selected ? keyId(selected) : null;
  return (
    <div className="resource-scroller" ref={scroller}>
      <table className="resources" aria-label="Resources" aria-rowcount={resources.length + 1}>
        <thead>
          <tr>
            <th>Kind</th>
            <th>Namespace</th>
            <th>Name</th>
            <th>Status</th>
            <th>Health</th>
          </tr>
        </thead>
        <tbody>
          {before > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={5} style={{ height: before }} />
            </tr>
          )}
          {items.map((item) => {
            const r = resources[item.index];
            const isSelected = keyId(r.key) === selectedId;
            return (
              <tr
                key={item.key}
                data-index={item.index}
                ref={rows.measureElement}
                aria-rowindex={item.index + 2}
                className={isSelected ? "selected" : undefined}
                aria-selected={isSelected}
                onClick={() => onSelect(r.key)}
              >
                <td>{r.key.kind}</td>
                <td>{r.key.namespace || "—"}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() => onSelect(r.key)}
                    aria-label={`Diff ${resourceLabel(r.key)}`}
                  >
                    {r.key.name}
                  </button>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                  {r.message && <div className="resource-message">{r.message}</div>}
                </td>
                <td>{r.health ? <HealthBadge status={r.health.status} message={r.health.message} /> : "—"}</td>
              </tr>
            );
          })}
          {after > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={5} style={{ height: after }} />
            </tr>
          )}
          {empty && (
            <tr>
              <td colSpan={5} className="empty">
                This application renders no resources.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
