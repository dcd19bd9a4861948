import { useState } from "react";
import type { ResourceKey, TreeNode } from "../backend";
import { HealthBadge } from "../components/HealthBadge";
import { StatusBadge } from "../components/StatusBadge";
import { keyId, resourceLabel } from "../format";

/** More Pods than this under one owner fold into one "N pods" node. */
const POD_GROUP = 3;

function NodeLine({ node, onSelect }: { node: TreeNode; onSelect?: (key: ResourceKey) => void }) {
  return (
    <span className={`tree-node${node.sync && node.sync !== "Synced" ? " tree-out-of-sync" : ""}`}>
      <span className="tree-kind">{node.key.kind}</span>{" "}
      {onSelect ? (
        <button
          type="button"
          className="link"
          onClick={() => onSelect(node.key)}
          aria-label={`Open ${resourceLabel(node.key)}`}
        >
          {node.key.name}
        </button>
      ) : (
        <span>{node.key.name}</span>
      )}{" "}
      {node.sync && <StatusBadge status={node.sync} />}
      {node.health && <HealthBadge status={node.health.status} message={node.health.message} />}
    </span>
  );
}

function Branch({
  node,
  children,
  onSelect,
}: {
  node: TreeNode;
  children: Map<string, TreeNode[]>;
  onSelect: (key: ResourceKey) => void;
}) {
  const [podsOpen, setPodsOpen] = useState(false);
  const kids = children.get(keyId(node.key)) ?? [];
  const pods = kids.filter((k) => k.key.kind === "Pod");
  const grouped = pods.length > POD_GROUP && !podsOpen;
  const shown = grouped ? kids.filter((k) => k.key.kind !== "Pod") : kids;
  const healthy = pods.filter((p) => p.health?.status === "Healthy").length;
  return (
    <li role="treeitem" aria-expanded={kids.length > 0 ? true : undefined} aria-label={resourceLabel(node.key)}>
      <NodeLine node={node} onSelect={node.parent === null ? onSelect : undefined} />
      {(shown.length > 0 || grouped) && (
        <ul role="group">
          {shown.map((k) => (
            <Branch key={keyId(k.key)} node={k} children={children} onSelect={onSelect} />
          ))}
          {grouped && (
            <li role="treeitem" aria-expanded={false} aria-label={`${pods.length} pods`}>
              <button type="button" className="link" onClick={() => setPodsOpen(true)}>
                {pods.length} pods
              </button>{" "}
              <span className="muted">
                {healthy} of {pods.length} healthy
              </span>
              <span className="health-bar" aria-hidden="true">
                <span style={{ width: `${(100 * healthy) / pods.length}%` }} />
              </span>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

/** The app's resources and what the cluster made from them, as an indented tree. */
export function ResourceTree({ nodes, onSelect }: { nodes: TreeNode[]; onSelect: (key: ResourceKey) => void }) {
  const children = new Map<string, TreeNode[]>();
  for (const n of nodes) {
    if (!n.parent) continue;
    const id = keyId(n.parent);
    children.set(id, [...(children.get(id) ?? []), n]);
  }
  return (
    <ul role="tree" aria-label="Resource tree" className="tree">
      {nodes
        .filter((n) => n.parent === null)
        .map((n) => (
          <Branch key={keyId(n.key)} node={n} children={children} onSelect={onSelect} />
        ))}
    </ul>
  );
}
