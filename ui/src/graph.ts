// The resource graph's shape and layout, apart from drawing: which nodes and edges the tree and
// the network views show, many of one kind folded into one node per owner, and a left-to-right
// layout.
// Unit-tested in graph.test.ts.
import type { HealthStatus, SyncStatus, TreeNode } from "./backend";
import { keyId } from "./format";

/** More Pods than this under one owner (or behind one Service) fold into one "N pods" node. */
export const POD_GROUP = 3;
/** More resources of another kind than this under one owner fold into one node too. */
export const KIND_GROUP = 20;

export const NODE_WIDTH = 250;
export const NODE_HEIGHT = 58;

export type GraphNode =
  | { id: string; type: "app"; name: string; sync?: SyncStatus; health?: HealthStatus | null }
  | { id: string; type: "resource"; node: TreeNode }
  /** Many resources of one kind under one owner, shown as one node until opened. */
  | { id: string; type: "group"; owner: string; kind: string; members: TreeNode[] };

export type GraphEdge = { id: string; source: string; target: string };

export type Graph = { nodes: GraphNode[]; edges: GraphEdge[] };

const APP_ID = "app";

function edge(source: string, target: string): GraphEdge {
  return { id: `${source}→${target}`, source, target };
}

/** "5 pods", "1500 ConfigMaps", "30 NetworkPolicies": what a group node says. */
export function groupLabel(kind: string, count: number): string {
  if (kind === "Pod") return `${count} pods`;
  if (kind.endsWith("s")) return `${count} ${kind === "Endpoints" ? kind : `${kind}es`}`;
  if (kind.endsWith("y")) return `${count} ${kind.slice(0, -1)}ies`;
  return `${count} ${kind}s`;
}

/** What opens a group: its owner and kind. */
export function groupKey(owner: string, kind: string): string {
  return `${owner}|${kind}`;
}

/**
 * Edges from `owner` to `targets`, with the kinds that have many members (more than three
 * Pods, more than twenty of any other kind) folded into one group node each, unless opened.
 * Returns the ids folded away.
 */
function foldGroups(owner: string, targets: TreeNode[], opened: ReadonlySet<string>, graph: Graph): Set<string> {
  const byKind = new Map<string, TreeNode[]>();
  for (const t of targets) {
    const members = byKind.get(t.key.kind);
    if (members) members.push(t);
    else byKind.set(t.key.kind, [t]);
  }
  const folded = new Set<string>();
  for (const [kind, members] of byKind) {
    const limit = kind === "Pod" ? POD_GROUP : KIND_GROUP;
    if (members.length > limit && !opened.has(groupKey(owner, kind))) {
      const id = `group:${groupKey(owner, kind)}`;
      graph.nodes.push({ id, type: "group", owner, kind, members });
      graph.edges.push(edge(owner, id));
      for (const m of members) folded.add(keyId(m.key));
    } else {
      for (const m of members) graph.edges.push(edge(owner, keyId(m.key)));
    }
  }
  return folded;
}

/**
 * The tree view: the application, its resources, and what the cluster made from them by owner
 * references; many of one kind under one owner fold into one node unless opened.
 */
export function treeGraph(
  app: { name: string; sync?: SyncStatus; health?: HealthStatus | null },
  nodes: TreeNode[],
  opened: ReadonlySet<string>,
): Graph {
  const graph: Graph = { nodes: [{ id: APP_ID, type: "app", ...app }], edges: [] };
  const children = new Map<string, TreeNode[]>();
  for (const n of nodes) {
    const parent = n.parent ? keyId(n.parent) : APP_ID;
    const kids = children.get(parent);
    if (kids) kids.push(n);
    else children.set(parent, [n]);
  }
  const hidden = new Set<string>();
  for (const [owner, kids] of children) {
    for (const id of foldGroups(owner, kids, opened, graph)) hidden.add(id);
  }
  // A node is shown when its owner is, and it is not folded away.
  const shown = new Set<string>([APP_ID]);
  const visit = (owner: string) => {
    for (const kid of children.get(owner) ?? []) {
      const id = keyId(kid.key);
      if (hidden.has(id) || shown.has(id)) continue;
      shown.add(id);
      graph.nodes.push({ id, type: "resource", node: kid });
      visit(id);
    }
  };
  visit(APP_ID);
  // Folds under owners that are themselves hidden go too.
  graph.nodes = graph.nodes.filter((n) => n.type !== "group" || shown.has(n.owner));
  for (const n of graph.nodes) if (n.type === "group") shown.add(n.id);
  graph.edges = graph.edges.filter((e) => shown.has(e.source) && shown.has(e.target));
  return graph;
}

/**
 * The network view: Ingresses → the Services they send to → the Pods those select. Services
 * and Ingresses with nothing behind them are shown too; Pods nothing routes to are not.
 */
export function networkGraph(nodes: TreeNode[], opened: ReadonlySet<string>): Graph {
  const graph: Graph = { nodes: [], edges: [] };
  const byId = new Map(nodes.map((n) => [keyId(n.key), n]));
  const shown = new Set<string>();
  const show = (n: TreeNode) => {
    const id = keyId(n.key);
    if (!shown.has(id)) {
      shown.add(id);
      graph.nodes.push({ id, type: "resource", node: n });
    }
  };
  for (const n of nodes) {
    const kind = n.key.kind;
    if (!((kind === "Ingress" && n.key.group === "networking.k8s.io") || (kind === "Service" && n.key.group === "")))
      continue;
    show(n);
    const targets = n.routesTo.flatMap((k) => byId.get(keyId(k)) ?? []);
    const folded = foldGroups(keyId(n.key), targets, opened, graph);
    for (const t of targets) if (!folded.has(keyId(t.key))) show(t);
  }
  return graph;
}

/** What decides the layout: the nodes and edges, not their badges. */
export function shapeOf(graph: Graph): string {
  return [...graph.nodes.map((n) => n.id), "|", ...graph.edges.map((e) => e.id)].join("\n");
}

const RANK_GAP = 64;
const ROW_GAP = 14;

/**
 * Left-to-right positions (top-left corners): each node one column right of the node that
 * first reaches it, leaves stacked in order, a parent centred on its children. Both views are
 * trees but for the odd second route (a Pod behind two Services), which is drawn as an edge
 * only. Linear in the size of the graph: dagre took 1.5 s for 2,000 nodes, this takes
 * milliseconds.
 */
export function layout(graph: Graph): Map<string, { x: number; y: number }> {
  const out = new Map<string, string[]>();
  const reached = new Set<string>();
  for (const e of graph.edges) {
    out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
    reached.add(e.target);
  }
  const positions = new Map<string, { x: number; y: number }>();
  let row = 0;
  // Returns the centre y of the subtree placed at `depth`.
  const place = (id: string, depth: number): number => {
    positions.set(id, { x: depth * (NODE_WIDTH + RANK_GAP), y: 0 });
    const centres = (out.get(id) ?? []).filter((k) => !positions.has(k)).map((k) => place(k, depth + 1));
    const y = centres.length > 0 ? (centres[0] + centres[centres.length - 1]) / 2 : row++ * (NODE_HEIGHT + ROW_GAP);
    positions.set(id, { x: depth * (NODE_WIDTH + RANK_GAP), y });
    return y;
  };
  for (const n of graph.nodes) if (!reached.has(n.id)) place(n.id, 0);
  // Whatever only a cycle reaches (none in practice) still gets a place.
  for (const n of graph.nodes) if (!positions.has(n.id)) place(n.id, 0);
  return positions;
}
