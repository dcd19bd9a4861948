import { useEffect, useState } from "react";
import { useBackend } from "./backend/context";
import { ErrorBoundary, ErrorNotice } from "./components/ErrorNotice";
import { useLoad } from "./useLoad";
import { AppPage } from "./screens/AppPage";
import { Overview } from "./screens/Overview";
import { Rail } from "./screens/Rail";
import { Contexts } from "./screens/Contexts";
import { Repositories } from "./screens/Repositories";

type View = { screen: "overview" } | { screen: "app"; name: string } | { screen: "repos" } | { screen: "contexts" };

export function App() {
  const backend = useBackend();
  const [environment] = useLoad(() => backend.environment(), "environment");
  const [contexts, reloadContexts] = useLoad(() => backend.listContexts(), "contexts");
  // Kubeconfig files edited on disk are re-read by the shell, which says so here.
  useEffect(() => {
    let stop: (() => void) | undefined;
    let live = true;
    backend.onContextsChanged(reloadContexts).then(
      (unlisten) => (live ? (stop = unlisten) : unlisten()),
      () => undefined,
    );
    return () => {
      live = false;
      stop?.();
    };
    // Subscribes once; `reloadContexts` only bumps a counter.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [backend]);
  const [apps, reloadApps] = useLoad(() => backend.listApps(), "apps");
  const [repos, reloadRepos] = useLoad(() => backend.listRepos(), "repos");
  const [view, setView] = useState<View>({ screen: "overview" });

  return (
    <div className="frame">
      <Rail
        contexts={contexts.value}
        apps={apps.value}
        selectedApp={view.screen === "app" ? view.name : null}
        onOpenOverview={() => setView({ screen: "overview" })}
        onOpenApp={(name) => setView({ screen: "app", name })}
        onOpenRepos={() => setView({ screen: "repos" })}
        reposOpen={view.screen === "repos"}
        onOpenContexts={() => setView({ screen: "contexts" })}
      />
      <main className="main">
        {environment.value?.demo && (
          <div className="demo-banner" role="note">
            <strong>Demo sandbox.</strong> You are looking at a simulated cluster on this computer with a sample
            application. Nothing here touches your real clusters.
          </div>
        )}
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <button type="button" className="link" onClick={() => setView({ screen: "overview" })}>
            Applications
          </button>
          {view.screen === "app" && <span> › {view.name}</span>}
          {view.screen === "repos" && <span> › Repositories</span>}
          {view.screen === "contexts" && <span> › Contexts</span>}
        </nav>
        {environment.state === "failed" && (
          <ErrorNotice title="Plumbline's backend did not answer." error={environment.error} />
        )}
        {contexts.state === "failed" && <ErrorNotice title="Contexts could not be read." error={contexts.error} />}
        <ErrorBoundary key={view.screen === "app" ? view.name : view.screen}>
          {view.screen === "overview" && (
            <Overview
              apps={apps}
              contexts={contexts.value}
              repos={repos.value}
              onOpenApp={(name) => setView({ screen: "app", name })}
              onAppsChanged={reloadApps}
            />
          )}
          {view.screen === "app" && <AppPage name={view.name} />}
          {view.screen === "repos" && <Repositories repos={repos} onChanged={reloadRepos} />}
          {view.screen === "contexts" && <Contexts contexts={contexts.value} onChanged={reloadContexts} />}
        </ErrorBoundary>
      </main>
    </div>
  );
}
