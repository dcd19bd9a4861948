import { useEffect, useRef, useState } from "react";
import { useBackend } from "../backend/context";
import { toBackendError, type ErrorInfo, type TreeNode } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { HealthBadge } from "../components/HealthBadge";
import { resourceLabel } from "../format";
import { useLoad } from "../useLoad";
import { EventsView } from "./ResourcePanel";

/** Lines kept on screen; older ones scroll away, as in a terminal. */
const KEEP = 5000;

type Tab = "Logs" | "Events";

/**
 * Something the cluster made for the app (a ReplicaSet, a Pod…): its health and Events, and
 * for a Pod its log, streamed.
 */
export function ChildPanel({ app, node: pod }: { app: string; node: TreeNode }) {
  const tabs: Tab[] = pod.key.kind === "Pod" ? ["Logs", "Events"] : ["Events"];
  const [chosenTab, setTab] = useState<Tab>(tabs[0]);
  const tab = tabs.includes(chosenTab) ? chosenTab : tabs[0];
  const label = resourceLabel(pod.key);
  return (
    <section className="resource-panel" aria-label={`Resource ${label}`}>
      <h2 className="panel-title">
        {label} {pod.health && <HealthBadge status={pod.health.status} message={pod.health.message} />}
      </h2>
      <div role="tablist" aria-label="Resource views" className="tabs">
        {tabs.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tab}>
        {tab === "Logs" ? <LogsView app={app} pod={pod} /> : <EventsView app={app} resourceKey={pod.key} />}
      </div>
    </section>
  );
}

type Log = { stream: string; lines: string[]; error: ErrorInfo | null; state: "reading" | "ended" | "stopped" };

const fresh = (stream: string): Log => ({ stream, lines: [], error: null, state: "reading" });

/** `old` with `change`, when it is the log of `stream`; else a fresh log of `stream` with it. */
function changed(old: Log, stream: string, change: (log: Log) => Partial<Log>): Log {
  const base = old.stream === stream ? old : fresh(stream);
  return { ...base, ...change(base) };
}

function LogsView({ app, pod }: { app: string; pod: TreeNode }) {
  const backend = useBackend();
  const label = resourceLabel(pod.key);
  const [containers] = useLoad(() => backend.podContainers(app, pod.key), `${app}:${label}`);
  const [chosen, setChosen] = useState<string | null>(null);
  const container = chosen ?? containers.value?.[0] ?? null;
  const [follow, setFollow] = useState(true);
  const [previous, setPrevious] = useState(false);
  // What the stream of the current choice (container, previous, follow) brought; a new choice
  // starts afresh, and the stream before it is stopped.
  const stream = `${container}|${previous}|${follow}`;
  const [log, setLog] = useState<Log>(fresh(""));
  const { lines, error, state } = log.stream === stream ? log : fresh(stream);
  useEffect(() => {
    if (!container) return;
    let live = true;
    let batch: string[] = [];
    let flush: number | null = null;
    const change = (c: (log: Log) => Partial<Log>) => setLog((old) => changed(old, stream, c));
    // Lines arrive in bursts: repaint once a frame, not once a line.
    const onLine = (line: string) => {
      batch.push(line);
      flush ??= requestAnimationFrame(() => {
        flush = null;
        const arrived = batch;
        batch = [];
        if (live) change((l) => ({ lines: [...l.lines, ...arrived].slice(-KEEP) }));
      });
    };
    backend.streamLogs(app, pod.key, { container, previous, follow: follow && !previous, tailLines: 500 }, onLine).then(
      () => live && change((l) => ({ state: l.state === "stopped" ? "stopped" : "ended" })),
      (thrown: unknown) => live && change(() => ({ error: toBackendError(thrown).info })),
    );
    return () => {
      live = false;
      if (flush !== null) cancelAnimationFrame(flush);
      void backend.stopLogs(app);
    };
  }, [backend, app, pod.key, container, previous, follow, stream]);
  // Following keeps the newest line in view.
  const end = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (follow && end.current) end.current.scrollTop = end.current.scrollHeight;
  }, [lines, follow]);

  return (
    <div className="logs">
      <div className="log-options">
        <label>
          Container{" "}
          <select aria-label="Container" value={container ?? ""} onChange={(e) => setChosen(e.target.value)}>
            {containers.value?.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={follow} disabled={previous} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <label className="check">
          <input type="checkbox" checked={previous} onChange={(e) => setPrevious(e.target.checked)} />
          Previous container
        </label>
        {state === "reading" && follow && !previous && (
          <button
            type="button"
            onClick={() => {
              setLog((old) => changed(old, stream, () => ({ state: "stopped" })));
              void backend.stopLogs(app);
            }}
          >
            Stop
          </button>
        )}
        <span className="muted" role="status">
          {state === "reading" && follow && !previous ? "following…" : state === "stopped" ? "stopped" : ""}
        </span>
      </div>
      {containers.state === "failed" && <ErrorNotice title="The Pod could not be read." error={containers.error} />}
      {error && <ErrorNotice title="The log could not be read." error={error} />}
      <pre className="log" role="log" aria-label={`Log of ${container ?? "the Pod"}`} ref={end}>
        {lines.length === 0 && !error ? "No lines yet." : lines.join("\n")}
      </pre>
    </div>
  );
}
