import { describe, expect, it } from "vitest";
import type { ResourceKey, TreeNode } from "./backend";
import { keyId } from "./format";
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
} from "./graph";

const key = (group: string, kind: string, name: string): ResourceKey => ({ group, kind, namespace: "web", name });

function node(k: ResourceKey, parent: ResourceKey | null, routesTo: ResourceKey[] = []): TreeNode {
  return {
    key: k,
    apiVersion: "v1",
    parent,
    sync: parent ? null : "Synced",
    health: { status: "Healthy", message: "" },
    routesTo,
  };
}

const deployment = key("apps", "Deployment", "ui");
const replicaSet = key("apps", "ReplicaSet", "ui-5d8f");
const pods = (n: number) => Array.from({ length: n }, (_, i) => key("", "Pod", `ui-5d8f-${i}`));
const service = key("", "Service", "ui");
const ingress = key("networking.k8s.io", "Ingress", "ui");

function app(podCount: number): TreeNode[] {
  return [
    node(deployment, null),
    node(replicaSet, deployment),
    ...pods(podCount).map((p) => node(p, replicaSet)),
    node(service, null, pods(podCount)),
    node(ingress, null, [service]),
  ];
}

const ids = (g: Graph) => g.nodes.map((n) => n.id).sort();
const edges = (g: Graph) => g.edges.map((e) => `${e.source} → ${e.target}`).sort();

describe("treeGraph", () => {
  it("goes from the application through its resources to what owns what", () => {
    const g = treeGraph({ name: "web" }, app(2), new Set());
    expect(ids(g)).toEqual(["app", ...app(2).map((n) => keyId(n.key))].sort());
    expect(edges(g)).toEqual(
      [
        `app → ${keyId(deployment)}`,
        `app → ${keyId(service)}`,
        `app → ${keyId(ingress)}`,
        `${keyId(deployment)} → ${keyId(replicaSet)}`,
        ...pods(2).map((p) => `${keyId(replicaSet)} → ${keyId(p)}`),
      ].sort(),
    );
  });

  it("folds more than three Pods of one owner into one node, unless that owner is opened", () => {
    const folded = treeGraph({ name: "web" }, app(5), new Set());
    const group = folded.nodes.find((n) => n.type === "group");
    expect(group).toMatchObject({ id: `group:${keyId(replicaSet)}|Pod`, owner: keyId(replicaSet), kind: "Pod" });
    expect(group?.type === "group" && group.members.length).toBe(5);
    expect(folded.nodes.filter((n) => n.type === "resource" && n.node.key.kind === "Pod")).toEqual([]);
    expect(edges(folded)).toContain(`${keyId(replicaSet)} → group:${keyId(replicaSet)}|Pod`);

    const opened = treeGraph({ name: "web" }, app(5), new Set([groupKey(keyId(replicaSet), "Pod")]));
    expect(opened.nodes.filter((n) => n.type === "group")).toEqual([]);
    expect(opened.nodes.filter((n) => n.type === "resource" && n.node.key.kind === "Pod")).toHaveLength(5);
  });

  it("folds many resources of one kind under the application, and hides what they own", () => {
    const configMaps = Array.from({ length: 25 }, (_, i) => node(key("", "ConfigMap", `c${i}`), null));
    const deployments = Array.from({ length: 21 }, (_, i) => key("apps", "Deployment", `d${i}`));
    const owned = deployments.map((d) => node(key("apps", "ReplicaSet", `${d.name}-1`), d));
    const g = treeGraph(
      { name: "big" },
      [...configMaps, ...deployments.map((d) => node(d, null)), ...owned, node(service, null)],
      new Set(),
    );
    expect(ids(g)).toEqual(["app", "group:app|ConfigMap", "group:app|Deployment", keyId(service)].sort());
    const group = g.nodes.find((n) => n.id === "group:app|ConfigMap");
    expect(group?.type === "group" && group.members).toHaveLength(25);

    const opened = treeGraph(
      { name: "big" },
      [...configMaps, ...deployments.map((d) => node(d, null)), ...owned],
      new Set([groupKey("app", "Deployment")]),
    );
    expect(opened.nodes.filter((n) => n.type === "resource" && n.node.key.kind === "ReplicaSet")).toHaveLength(21);
  });

  it("names groups as people say them", () => {
    expect(groupLabel("Pod", 5)).toBe("5 pods");
    expect(groupLabel("ConfigMap", 1500)).toBe("1500 ConfigMaps");
    expect(groupLabel("NetworkPolicy", 30)).toBe("30 NetworkPolicies");
    expect(groupLabel("Ingress", 22)).toBe("22 Ingresses");
    expect(groupLabel("Endpoints", 40)).toBe("40 Endpoints");
  });

  it("keeps three Pods as they are", () => {
    const g = treeGraph({ name: "web" }, app(3), new Set());
    expect(g.nodes.filter((n) => n.type === "group")).toEqual([]);
  });
});

describe("networkGraph", () => {
  it("goes from Ingress to Service to the selected Pods, leaving out the rest", () => {
    const g = networkGraph(app(2), new Set());
    expect(ids(g)).toEqual([keyId(ingress), keyId(service), ...pods(2).map(keyId)].sort());
    expect(edges(g)).toEqual(
      [`${keyId(ingress)} → ${keyId(service)}`, ...pods(2).map((p) => `${keyId(service)} → ${keyId(p)}`)].sort(),
    );
  });

  it("folds a Service's many Pods", () => {
    const g = networkGraph(app(6), new Set());
    expect(g.nodes.filter((n) => n.type === "group")).toHaveLength(1);
    expect(edges(g)).toContain(`${keyId(service)} → group:${keyId(service)}|Pod`);
  });

  it("is empty for an application with no Service or Ingress", () => {
    expect(networkGraph([node(deployment, null)], new Set()).nodes).toEqual([]);
  });
});

describe("layout", () => {
  it("reads left to right with no two nodes on top of each other", () => {
    const g = treeGraph({ name: "web" }, app(3), new Set());
    const at = layout(g);
    const x = (id: string) => at.get(id)?.x ?? Number.NaN;
    expect(x("app")).toBeLessThan(x(keyId(deployment)));
    expect(x(keyId(deployment))).toBeLessThan(x(keyId(replicaSet)));
    expect(at.size).toBe(g.nodes.length);
    const boxes = [...at.values()];
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = Math.abs(a.x - b.x) >= NODE_WIDTH || Math.abs(a.y - b.y) >= NODE_HEIGHT;
        expect(apart).toBe(true);
      }
    }
  });

  it("keeps its shape when only health or sync change", () => {
    const before = treeGraph({ name: "web" }, app(2), new Set());
    const degraded = app(2).map((n) => ({ ...n, health: { status: "Degraded" as const, message: "" } }));
    expect(shapeOf(treeGraph({ name: "web", sync: "OutOfSync" }, degraded, new Set()))).toBe(shapeOf(before));
    expect(shapeOf(treeGraph({ name: "web" }, app(4), new Set()))).not.toBe(shapeOf(before));
  });
});
