import { memo, useEffect, useMemo, useRef, useState } from "react";
import {
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
  type NodeHandle,
  type NodeTypes,
  type ReactFlowInstance,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { HealthStatus, ResourceKey, SyncStatus, TreeNode } from "../backend";
import { HealthBadge } from "../components/HealthBadge";
import { StatusBadge } from "../components/StatusBadge";
import { resourceLabel } from "../format";
import {
  groupKey,
  groupLabel,
  layout,
  networkGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  shapeOf,
  treeGraph,
  type Graph,
  type GraphNode,
} from "../graph";

type Select = (key: ResourceKey) => void;
type NodeData = { item: GraphNode; onSelect: Select; onOpen: (group: string) => void };
type FlowNode = Node<NodeData>;

function Ports() {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}

/** One node of the graph: kind, name, sync and health; a click opens the resource. */
const GraphCard = memo(function GraphCard({ data }: NodeProps<FlowNode>) {
  const { item, onSelect, onOpen } = data;
  if (item.type === "app") {
    return (
      <div className="graph-node graph-app">
        <Ports />
        <span className="graph-kind">Application</span>
        <strong className="graph-name">{item.name}</strong>
        <span className="graph-badges">
          {item.sync && <StatusBadge status={item.sync} />}
          {item.health && <HealthBadge status={item.health} />}
        </span>
      </div>
    );
  }
  if (item.type === "group") {
    const healthy = item.members.filter((p) => p.health?.status === "Healthy").length;
    const judged = item.members.filter((p) => p.health).length;
    const outOfSync = item.members.filter((p) => p.sync && p.sync !== "Synced").length;
    const total = item.members.length;
    return (
      <div className={`graph-node graph-group${outOfSync > 0 ? " tree-out-of-sync" : ""}`}>
        <Ports />
        <button type="button" className="link graph-name" onClick={() => onOpen(groupKey(item.owner, item.kind))}>
          {groupLabel(item.kind, total)}
        </button>
        <span className="muted">
          {outOfSync > 0 ? `${outOfSync} out of sync` : judged > 0 ? `${healthy} of ${judged} healthy` : "all synced"}
        </span>
        {judged > 0 && (
          <span className="health-bar" aria-hidden="true">
            <span style={{ width: `${(100 * healthy) / judged}%` }} />
          </span>
        )}
      </div>
    );
  }
  const { node } = item;
  const outOfSync = node.sync && node.sync !== "Synced";
  return (
    <div className={`graph-node${outOfSync ? " tree-out-of-sync" : ""}${node.parent ? " graph-child" : ""}`}>
      <Ports />
      <span className="graph-kind">{node.key.kind}</span>
      <button
        type="button"
        className="link graph-name"
        title={node.key.name}
        onClick={() => onSelect(node.key)}
        aria-label={`Open ${resourceLabel(node.key)}`}
      >
        {node.key.name}
      </button>
      <span className="graph-badges">
        {node.sync && <StatusBadge status={node.sync} />}
        {node.health && <HealthBadge status={node.health.status} message={node.health.message} />}
      </span>
    </div>
  );
});

const nodeTypes: NodeTypes = { card: GraphCard };

const FIT = { maxZoom: 1 };

/**
 * Every card has the same size (styles.css says so too) with its ports at the middle of its sides.
 * Told to React Flow up front (`measured` too: it fits the view only to measured nodes), it never
 * measures a card: otherwise each refresh, which hands it new node objects, would hide every card
 * until it had measured it again.
 */
const SIZE = { width: NODE_WIDTH, height: NODE_HEIGHT };
const HANDLES: NodeHandle[] = [
  { type: "target", position: Position.Left, x: 0, y: NODE_HEIGHT / 2, width: 1, height: 1 },
  { type: "source", position: Position.Right, x: NODE_WIDTH - 1, y: NODE_HEIGHT / 2, width: 1, height: 1 },
];

/** What a screen reader says for a node. */
function labelOf(item: GraphNode): string {
  if (item.type === "app") return `Application ${item.name}`;
  if (item.type === "group") return groupLabel(item.kind, item.members.length);
  return resourceLabel(item.node.key);
}

/**
 * The app's resources as a graph, pannable and zoomable: the tree (application → resources →
 * what the cluster made from them) or the network (Ingress → Service → Pods).
 */
export function ResourceGraph({
  view,
  app,
  nodes,
  onSelect,
  busy = false,
}: {
  view: "tree" | "network";
  app: { name: string; sync?: SyncStatus; health?: HealthStatus | null };
  nodes: TreeNode[];
  onSelect: Select;
  /** A newer answer is on its way: what is drawn may be a moment old. */
  busy?: boolean;
}) {
  // Groups (owner and kind) shown one by one.
  const [opened, setOpened] = useState<ReadonlySet<string>>(new Set());
  const graph: Graph = useMemo(
    () => (view === "tree" ? treeGraph(app, nodes, opened) : networkGraph(nodes, opened)),
    [view, app, nodes, opened],
  );
  // Badges change with every refresh; the layout only when nodes come or go.
  const shape = shapeOf(graph);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `shape` says when the graph's shape changed
  const positions = useMemo(() => layout(graph), [shape]);
  const flowNodes: FlowNode[] = useMemo(() => {
    const onOpen = (group: string) => setOpened((o) => new Set(o).add(group));
    return graph.nodes.map((item) => ({
      id: item.id,
      type: "card",
      ariaLabel: labelOf(item),
      position: positions.get(item.id) ?? { x: 0, y: 0 },
      ...SIZE,
      measured: SIZE,
      handles: HANDLES,
      data: { item, onSelect, onOpen },
      draggable: false,
      connectable: false,
    }));
  }, [graph, positions, onSelect]);
  const flowEdges: Edge[] = useMemo(() => {
    const labels = new Map(graph.nodes.map((n) => [n.id, labelOf(n)]));
    return graph.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      type: "smoothstep",
      ariaLabel: `${labels.get(e.source)} to ${labels.get(e.target)}`,
    }));
  }, [graph]);
  // The view keeps everything in sight as nodes come and go, until the user pans or zooms;
  // Fit View hands it back.
  const viewKey = `${view}:${app.name}:${opened.size}`;
  const [flow, setFlow] = useState<ReactFlowInstance<FlowNode, Edge> | null>(null);
  const movedIn = useRef<string | null>(null);
  useEffect(() => {
    if (flow && movedIn.current !== viewKey) void flow.fitView(FIT);
  }, [flow, shape, viewKey]);
  const label = view === "tree" ? "Resource tree" : "Network";
  if (graph.nodes.length === 0) {
    return (
      <p className="empty" aria-label={label}>
        This application has no Ingress or Service.
      </p>
    );
  }
  return (
    <div className="graph" role="region" aria-label={label} aria-busy={busy} data-nodes={graph.nodes.length}>
      <ReactFlow
        // A new view, application or opened group starts afresh, fitted.
        key={viewKey}
        onInit={setFlow}
        onMoveStart={(event) => {
          if (event) movedIn.current = viewKey;
        }}
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        edgesFocusable={false}
        // A click anywhere on a card does what its button does.
        onNodeClick={(_, { data }) => {
          if (data.item.type === "resource") onSelect(data.item.node.key);
          if (data.item.type === "group") data.onOpen(groupKey(data.item.owner, data.item.kind));
        }}
        onlyRenderVisibleElements
        fitView
        fitViewOptions={FIT}
        minZoom={0.05}
        colorMode="system"
        proOptions={{ hideAttribution: true }}
      >
        <Controls
          showInteractive={false}
          fitViewOptions={FIT}
          onZoomIn={() => (movedIn.current = viewKey)}
          onZoomOut={() => (movedIn.current = viewKey)}
          onFitView={() => (movedIn.current = null)}
        />
      </ReactFlow>
    </div>
  );
}
