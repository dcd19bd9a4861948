import { useState, type FormEvent } from "react";
import { useBackend } from "../backend/context";
import { toBackendError, type ContextInfo, type ContextList, type ContextState, type ErrorInfo } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../useLoad";

/** A context's state in words, as the rail's dot and this screen show it. */
export function describeState(state: ContextState): { label: string; tone: "ok" | "bad" | "muted"; message?: string } {
  switch (state.state) {
    case "notConnected":
      return { label: "not connected", tone: "muted" };
    case "connected":
      return { label: `connected ${state.version}`, tone: "ok" };
    case "unreachable":
      return { label: "unreachable", tone: "bad", message: state.message };
    case "unauthorized":
      return { label: "unauthorised", tone: "bad", message: state.message };
    case "tlsError":
      return { label: "TLS error", tone: "bad", message: state.message };
    case "invalid":
      return { label: "cannot be used", tone: "bad", message: state.message };
  }
}

/** Every kubeconfig context with its state; connect, mark protected, add kubeconfig files. */
export function Contexts({ contexts, onChanged }: { contexts: ContextList | undefined; onChanged: () => void }) {
  const backend = useBackend();
  const [settingsGeneration, setSettingsGeneration] = useState(0);
  const [settings] = useLoad(() => backend.getSettings(), `settings:${settingsGeneration}`);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [file, setFile] = useState("");

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
    onChanged();
    setSettingsGeneration((g) => g + 1);
  };

  const addFile = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await backend.addKubeconfig(file.trim());
      setFile("");
    });
  };

  return (
    <section className="screen" aria-labelledby="contexts-title">
      <header className="screen-header">
        <h1 id="contexts-title">Contexts</h1>
      </header>
      <p className="screen-intro">
        Every context from <code>KUBECONFIG</code>, <code>~/.kube/config</code> and the files you add. Plumbline
        connects to a context only when you use it. On a protected context, sync asks you to type the context&apos;s
        name.
      </p>
      {error && <ErrorNotice error={error} />}
      <table className="resources contexts-table" aria-label="Contexts">
        <thead>
          <tr>
            <th>Context</th>
            <th>Server</th>
            <th>User</th>
            <th>State</th>
            <th>Protected</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {contexts?.contexts.map((ctx) => (
            <ContextRow
              key={ctx.name}
              ctx={ctx}
              onProbe={() => act(() => backend.probeContext(ctx.name))}
              onProtect={(on) => act(() => backend.protectContext(ctx.name, on))}
            />
          ))}
        </tbody>
      </table>
      {contexts?.problems.map((p) => (
        <ErrorNotice
          key={p.file}
          title={`${p.file} could not be read; the other files still load.`}
          error={{ code: "Invalid", message: p.message, detail: null, hostKey: null }}
        />
      ))}
      <h2>Kubeconfig files you added</h2>
      <ul className="file-list" aria-label="Added kubeconfig files">
        {settings.value?.kubeconfigFiles.map((path) => (
          <li key={path}>
            <code>{path}</code>
            <button type="button" className="danger" onClick={() => void act(() => backend.removeKubeconfig(path))}>
              Remove {path}
            </button>
          </li>
        ))}
        {settings.value?.kubeconfigFiles.length === 0 && <li className="muted">None.</li>}
      </ul>
      <form className="inline-form" onSubmit={addFile} aria-label="Add kubeconfig file">
        <label>
          Kubeconfig file
          <input
            required
            placeholder="/home/me/.kube/staging.yaml"
            value={file}
            onChange={(e) => setFile(e.target.value)}
          />
        </label>
        <button type="submit">Add file</button>
      </form>
    </section>
  );
}

function ContextRow({
  ctx,
  onProbe,
  onProtect,
}: {
  ctx: ContextInfo;
  onProbe: () => Promise<void>;
  onProtect: (on: boolean) => Promise<void>;
}) {
  const [probing, setProbing] = useState(false);
  const state = describeState(ctx.state);
  return (
    <tr aria-label={ctx.name}>
      <td>
        {ctx.name}
        {ctx.current && <span className="tag">current</span>}
        <div className="muted">{ctx.file}</div>
      </td>
      <td>{ctx.server ?? "—"}</td>
      <td>{ctx.user}</td>
      <td>
        <span className={`context-state context-${state.tone}`} data-state={ctx.state.state}>
          {state.label}
        </span>
        {state.message && <div className="resource-message">{state.message}</div>}
      </td>
      <td>
        <input
          type="checkbox"
          aria-label={`Protect ${ctx.name}`}
          checked={ctx.protected}
          onChange={(e) => void onProtect(e.target.checked)}
        />
      </td>
      <td>
        <button
          type="button"
          disabled={probing}
          onClick={() => {
            setProbing(true);
            void onProbe().finally(() => setProbing(false));
          }}
        >
          {probing ? "Connecting…" : `Connect to ${ctx.name}`}
        </button>
      </td>
    </tr>
  );
}
