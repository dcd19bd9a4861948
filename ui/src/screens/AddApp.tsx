import { useState, type FormEvent } from "react";
import { useBackend } from "../backend/context";
import {
  toBackendError,
  type Application,
  type ContextList,
  type ErrorInfo,
  type RepoInfo,
  type SourceType,
} from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../useLoad";

/**
 * A form for an application: which folder of which repository goes to which context. Given an
 * `existing` application it edits that one (its name stays; ignore rules and folder options are
 * kept as they are).
 */
export function AddApp({
  contexts,
  repos,
  existing,
  onAdded,
  onCancel,
}: {
  contexts: ContextList | undefined;
  repos: RepoInfo[] | undefined;
  existing?: Application;
  onAdded: (name: string) => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const current = contexts?.contexts.find((c) => c.current) ?? contexts?.contexts[0];
  const [form, setForm] = useState(
    existing
      ? {
          name: existing.name,
          repo: existing.repo,
          revision: existing.revision,
          path: existing.path,
          context: existing.destination.context,
          namespace: existing.destination.namespace,
          sourceType: existing.source.type ?? "",
          valuesFiles: existing.source.helm.valuesFiles.join(", "),
          values: existing.source.helm.values,
        }
      : {
          name: "",
          repo: "",
          revision: "main",
          path: "",
          context: current?.name ?? "",
          namespace: current?.namespace ?? "default",
          sourceType: "",
          valuesFiles: "",
          values: "",
        },
  );
  const title = existing ? "Edit application" : "Add application";
  const [error, setError] = useState<ErrorInfo | null>(null);
  // The revision picker offers the branches and tags of an added, cloned repository.
  const cloned = repos?.find((r) => r.url === form.repo.trim() && r.cloned);
  const [refs] = useLoad(
    () => (cloned ? backend.repoRefs(cloned.url) : Promise.resolve({ branches: [], tags: [] })),
    `refs:${cloned?.url ?? ""}`,
  );
  // The destination picker offers the context's namespaces (typing another one works too).
  const [namespaces] = useLoad(
    () => (form.context ? backend.listNamespaces(form.context) : Promise.resolve([])),
    `namespaces:${form.context}`,
  );
  const [saving, setSaving] = useState(false);
  const field = (name: keyof typeof form) => ({
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const save = existing ? backend.updateApp : backend.addApp;
      await save({
        name: form.name.trim(),
        repo: form.repo.trim(),
        revision: form.revision.trim(),
        path: form.path.trim(),
        destination: { context: form.context, namespace: form.namespace.trim() },
        ignore: existing?.ignore ?? [],
        syncPolicy: existing?.syncPolicy ?? { automated: null },
        source: {
          type: form.sourceType === "" ? null : (form.sourceType as SourceType),
          helm: {
            releaseName: existing?.source.helm.releaseName ?? null,
            valuesFiles: form.valuesFiles
              .split(",")
              .map((f) => f.trim())
              .filter((f) => f !== ""),
            values: form.values,
          },
          directory: existing?.source.directory ?? { recurse: true, include: "", exclude: "" },
        },
      });
      onAdded(form.name.trim());
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="add-app" onSubmit={submit} aria-label={title}>
      <h2>{title}</h2>
      <label>
        Name
        <input required placeholder="guestbook" readOnly={existing !== undefined} {...field("name")} />
      </label>
      <label>
        Repository (an added repository's URL, or a local Git folder)
        <input required list="added-repos" placeholder="https://github.com/team/deploy.git" {...field("repo")} />
        <datalist id="added-repos">
          {repos?.map((r) => (
            <option key={r.url} value={r.url} />
          ))}
        </datalist>
      </label>
      <label>
        Revision
        <input required list="repo-revisions" placeholder="main" {...field("revision")} />
        <datalist id="repo-revisions">
          {[...(refs.value?.branches ?? []), ...(refs.value?.tags ?? [])].map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </label>
      <label>
        Path in the repository
        <input placeholder="apps/guestbook" {...field("path")} />
      </label>
      <label>
        Source type
        <select {...field("sourceType")}>
          <option value="">Detect (Chart.yaml: Helm; kustomization.yaml: Kustomize; else a folder of YAML)</option>
          <option value="Directory">Directory of YAML and JSON</option>
          <option value="Kustomize">Kustomize</option>
          <option value="Helm">Helm chart</option>
        </select>
      </label>
      {form.sourceType === "Helm" && (
        <>
          <label>
            Helm values files (comma-separated, in the chart folder)
            <input placeholder="values-prod.yaml" {...field("valuesFiles")} />
          </label>
          <label>
            Helm values (YAML)
            <textarea rows={3} placeholder="replicaCount: 2" {...field("values")} />
          </label>
        </>
      )}
      <label>
        Context
        <select required {...field("context")}>
          {contexts?.contexts.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Namespace
        <input required list="context-namespaces" placeholder="default" {...field("namespace")} />
        <datalist id="context-namespaces">
          {namespaces.value?.map((ns) => (
            <option key={ns} value={ns} />
          ))}
        </datalist>
      </label>
      {error && (
        <ErrorNotice
          title={existing ? "The application was not changed." : "The application was not added."}
          error={error}
        />
      )}
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={saving}>
          {existing ? (saving ? "Saving…" : "Save") : saving ? "Adding…" : "Add"}
        </button>
      </div>
    </form>
  );
}
