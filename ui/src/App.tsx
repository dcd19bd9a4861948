import { useState } from "react";
import { useBackend } from "./backend/context";
import { ErrorBoundary, ErrorNotice } from "./components/ErrorNotice";
import { useLoad } from "./useLoad";
import { AppPage } from "./screens/AppPage";
import { Overview } from "./screens/Overview";
import { Rail } from "./screens/Rail";
import { Repositories } from "./screens/Repositories";

type View = { screen: "overview" } | { screen: "app"; name: string } | { screen: "repos" };

export function App() {
  const backend = useBackend();
  const [environment] = useLoad(() => backend.environment(), "environment");
  const [contexts] = useLoad(() => backend.listContexts(), "contexts");
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
        </ErrorBoundary>
      </main>
    </div>
  );
}
