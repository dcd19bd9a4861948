import { useEffect, useState } from "react";
import { useBackend } from "./backend/context";
import { ErrorBoundary, ErrorNotice } from "./components/ErrorNotice";
import { useLoad } from "./useLoad";
import { useSubscription } from "./useSubscription";
import { useEngine } from "./useEngine";
import { ActivityBell } from "./components/ActivityBell";
import { Settings } from "./screens/Settings";
import { AppPage } from "./screens/AppPage";
import { Overview } from "./screens/Overview";
import { Rail } from "./screens/Rail";
import { Contexts } from "./screens/Contexts";
import { Repositories } from "./screens/Repositories";
import { CommandPalette, type Command } from "./components/CommandPalette";

/** `action` asks the app page to open the sync plan or refresh, once per `nonce`. */
type View =
  | { screen: "overview" }
  | { screen: "app"; name: string; action?: { kind: "sync" | "refresh"; nonce: number } }
  | { screen: "repos" }
  | { screen: "contexts" }
  | { screen: "settings" };

/** True when a key press is typing into a field, not a shortcut. */
function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

export function App() {
  const backend = useBackend();
  const [environment] = useLoad(() => backend.environment(), "environment");
  const [contexts, reloadContexts] = useLoad(() => backend.listContexts(), "contexts");
  // Kubeconfig files edited on disk are re-read by the shell, which says so here.
  useSubscription(() => backend.onContextsChanged(reloadContexts), backend);
  const [apps, reloadApps] = useLoad(() => backend.listApps(), "apps");
  const [repos, reloadRepos] = useLoad(() => backend.listRepos(), "repos");
  // A script beside the window changed the store: read what it changed.
  useSubscription(
    () =>
      backend.onStoreChanged(() => {
        reloadApps();
        reloadRepos();
        reloadContexts();
      }),
    backend,
  );
  const [view, setView] = useState<View>({ screen: "overview" });
  // Every app's status and the activity, kept current by the engine's events.
  const engine = useEngine(backend, reloadContexts);
  // A desktop notification about an app was clicked.
  useSubscription(() => backend.onOpenApp((name) => setView({ screen: "app", name })), backend);

  const [palette, setPalette] = useState(false);
  const act = (kind: "sync" | "refresh", name: string) =>
    setView({ screen: "app", name, action: { kind, nonce: Date.now() } });

  // Ctrl/Cmd+K opens the palette; `g o` goes to the overview; on an app, `s` plans a sync and
  // `r` refreshes. Keys typed into fields are left alone.
  useEffect(() => {
    let pendingG = false;
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setPalette(true);
        return;
      }
      if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (pendingG && e.key === "o") setView({ screen: "overview" });
      pendingG = e.key === "g";
      if (view.screen === "app" && (e.key === "s" || e.key === "r")) act(e.key === "s" ? "sync" : "refresh", view.name);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [view]);

  const commands: Command[] = [
    { id: "go-overview", group: "go to", label: "Applications", run: () => setView({ screen: "overview" }) },
    { id: "go-repos", group: "go to", label: "Repositories", run: () => setView({ screen: "repos" }) },
    { id: "go-contexts", group: "go to", label: "Contexts", run: () => setView({ screen: "contexts" }) },
    { id: "go-settings", group: "go to", label: "Preferences", run: () => setView({ screen: "settings" }) },
    ...(apps.value ?? []).flatMap((a) => [
      {
        id: `app-${a.name}`,
        group: "app",
        label: `${a.name} (${a.destination.context})`,
        run: () => setView({ screen: "app", name: a.name }),
      },
      { id: `sync-${a.name}`, group: "action", label: `Sync ${a.name}…`, run: () => act("sync", a.name) },
      { id: `refresh-${a.name}`, group: "action", label: `Refresh ${a.name}`, run: () => act("refresh", a.name) },
    ]),
    ...(contexts.value?.contexts ?? []).map((c) => ({
      id: `context-${c.name}`,
      group: "context",
      label: `Connect to ${c.name}`,
      run: () => {
        setView({ screen: "contexts" });
        void backend.probeContext(c.name).then(reloadContexts, reloadContexts);
      },
    })),
  ];

  return (
    <div className="frame">
      <Rail
        contexts={contexts.value}
        apps={apps.value}
        summaries={engine.summaries}
        selectedApp={view.screen === "app" ? view.name : null}
        onOpenOverview={() => setView({ screen: "overview" })}
        onOpenApp={(name) => setView({ screen: "app", name })}
        onOpenRepos={() => setView({ screen: "repos" })}
        reposOpen={view.screen === "repos"}
        onOpenContexts={() => setView({ screen: "contexts" })}
        onOpenSettings={() => setView({ screen: "settings" })}
        settingsOpen={view.screen === "settings"}
      />
      <main className="main">
        {environment.value?.demo && (
          <div className="demo-banner" role="note">
            <strong>Demo sandbox.</strong> You are looking at a simulated cluster on this computer with a sample
            application. Nothing here touches your real clusters.
          </div>
        )}
        {palette && <CommandPalette commands={commands} onClose={() => setPalette(false)} />}
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <button type="button" className="link" onClick={() => setView({ screen: "overview" })}>
            Applications
          </button>
          {view.screen === "app" && <span> › {view.name}</span>}
          {view.screen === "repos" && <span> › Repositories</span>}
          {view.screen === "contexts" && <span> › Contexts</span>}
          {view.screen === "settings" && <span> › Preferences</span>}
          <button type="button" className="palette-open" onClick={() => setPalette(true)} aria-keyshortcuts="Control+K">
            Search… <kbd>Ctrl K</kbd>
          </button>
          <ActivityBell activity={engine.activity} onOpenApp={(name) => setView({ screen: "app", name })} />
        </nav>
        {environment.state === "failed" && (
          <ErrorNotice title="Plumbline's backend did not answer." error={environment.error} />
        )}
        {contexts.state === "failed" && <ErrorNotice title="Contexts could not be read." error={contexts.error} />}
        <ErrorBoundary key={view.screen === "app" ? view.name : view.screen}>
          {view.screen === "overview" && (
            <Overview
              apps={apps}
              summaries={engine.summaries}
              contexts={contexts.value}
              repos={repos.value}
              onOpenApp={(name) => setView({ screen: "app", name })}
              onAppsChanged={reloadApps}
            />
          )}
          {view.screen === "app" && (
            <AppPage
              name={view.name}
              summary={engine.summaries.get(view.name)}
              action={view.action}
              contexts={contexts.value}
              repos={repos.value}
              onChanged={reloadApps}
              onDeleted={() => {
                reloadApps();
                setView({ screen: "overview" });
              }}
            />
          )}
          {view.screen === "repos" && <Repositories repos={repos} onChanged={reloadRepos} />}
          {view.screen === "contexts" && <Contexts contexts={contexts.value} onChanged={reloadContexts} />}
          {view.screen === "settings" && <Settings apps={apps.value ?? []} />}
        </ErrorBoundary>
      </main>
    </div>
  );
}
