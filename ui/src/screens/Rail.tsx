import type { AppSummary, Application, ContextList } from "../backend";
import { appTone } from "../format";
import { describeState } from "./Contexts";

interface RailProps {
  contexts: ContextList | undefined;
  apps: Application[] | undefined;
  /** Each app's last known status, for its dot. */
  summaries: Map<string, AppSummary>;
  selectedApp: string | null;
  onOpenOverview: () => void;
  onOpenApp: (name: string) => void;
  onOpenRepos: () => void;
  reposOpen: boolean;
  onOpenContexts: () => void;
  onOpenSettings: () => void;
  settingsOpen: boolean;
}

/** The left rail: contexts (current marked), then applications grouped by context. */
export function Rail({
  contexts,
  apps,
  summaries,
  selectedApp,
  onOpenOverview,
  onOpenApp,
  onOpenRepos,
  reposOpen,
  onOpenContexts,
  onOpenSettings,
  settingsOpen,
}: RailProps) {
  const byContext = new Map<string, Application[]>();
  for (const app of apps ?? []) {
    const list = byContext.get(app.destination.context) ?? [];
    list.push(app);
    byContext.set(app.destination.context, list);
  }
  return (
    <nav className="rail" aria-label="Contexts and applications">
      <button type="button" className="rail-home" onClick={onOpenOverview}>
        Plumbline
      </button>
      <h2>Contexts</h2>
      <ul className="rail-list" aria-label="Contexts">
        {contexts?.contexts.map((ctx) => {
          const state = describeState(ctx.state);
          return (
            <li
              key={ctx.name}
              className={ctx.current ? "current" : undefined}
              title={`${ctx.server ?? "no server"} — ${ctx.file} — ${state.label}`}
            >
              <button type="button" className="rail-context" onClick={onOpenContexts}>
                <span className={`dot dot-${state.tone}`} aria-label={state.label} role="img" />
                <span className="rail-name">{ctx.name}</span>
                {ctx.protected && (
                  <span className="lock" role="img" aria-label="protected">
                    🔒
                  </span>
                )}
                {ctx.current && <span className="tag">current</span>}
              </button>
            </li>
          );
        })}
        {contexts && contexts.contexts.length === 0 && (
          <li className="rail-empty">No contexts in your kubeconfig files.</li>
        )}
      </ul>
      {contexts?.problems.map((p) => (
        <p key={p.file} className="rail-problem" role="alert">
          {p.file}: {p.message}
        </p>
      ))}
      <h2>Applications</h2>
      {[...byContext.entries()].map(([context, list]) => (
        <div key={context}>
          <h3>{context}</h3>
          <ul className="rail-list">
            {list.map((app) => (
              <li key={app.name}>
                <button
                  type="button"
                  className={app.name === selectedApp ? "rail-app selected" : "rail-app"}
                  aria-current={app.name === selectedApp ? "page" : undefined}
                  onClick={() => onOpenApp(app.name)}
                >
                  <AppDot summary={summaries.get(app.name)} />
                  {app.name}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
      {apps && apps.length === 0 && <p className="rail-empty">No applications yet.</p>}
      <button
        type="button"
        className={reposOpen ? "rail-app rail-section selected" : "rail-app rail-section"}
        aria-current={reposOpen ? "page" : undefined}
        onClick={onOpenRepos}
      >
        Repositories
      </button>
      <button
        type="button"
        className={settingsOpen ? "rail-app rail-section selected" : "rail-app rail-section"}
        aria-current={settingsOpen ? "page" : undefined}
        onClick={onOpenSettings}
      >
        Preferences
      </button>
    </nav>
  );
}

function AppDot({ summary }: { summary: AppSummary | undefined }) {
  const { tone, label } = appTone(summary);
  return <span className={`dot dot-${tone}`} role="img" aria-label={label} title={label} />;
}
