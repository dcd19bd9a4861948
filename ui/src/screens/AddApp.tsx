import { useState, type FormEvent } from "react";
import { useBackend } from "../backend/context";
import {
  toBackendError,
  type Application,
  type ContextList,
  type DirectoryOptions,
  type ErrorInfo,
  type IgnoreRule,
  type JsonnetOptions,
  type JsonnetVar,
  type RepoInfo,
  type SourceType,
} from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../useLoad";

/** An ignore rule as the form edits it: lists as comma-separated text. */
type RuleRow = { group: string; kind: string; namespace: string; name: string; pointers: string; managers: string };

const list = (text: string) =>
  text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");

function toRow(rule: IgnoreRule): RuleRow {
  return {
    group: rule.group,
    kind: rule.kind,
    namespace: rule.namespace,
    name: rule.name,
    pointers: rule.jsonPointers.join(", "),
    managers: rule.managedFieldsManagers.join(", "),
  };
}

function toRule(row: RuleRow): IgnoreRule {
  return {
    group: row.group.trim(),
    kind: row.kind.trim(),
    namespace: row.namespace.trim(),
    name: row.name.trim(),
    jsonPointers: list(row.pointers),
    managedFieldsManagers: list(row.managers),
  };
}

type Form = {
  name: string;
  repo: string;
  revision: string;
  path: string;
  context: string;
  namespace: string;
  sourceType: string;
  valuesFiles: string;
  values: string;
  sync: "manual" | "automated";
  prune: boolean;
  selfHeal: boolean;
  createNamespace: boolean;
};

function formOf(app: Application): Form {
  return {
    name: app.name,
    repo: app.repo,
    revision: app.revision,
    path: app.path,
    context: app.destination.context,
    namespace: app.destination.namespace,
    sourceType: app.source.type ?? "",
    valuesFiles: app.source.helm.valuesFiles.join(", "),
    values: app.source.helm.values,
    sync: app.syncPolicy.automated ? "automated" : "manual",
    prune: app.syncPolicy.automated?.prune ?? false,
    selfHeal: app.syncPolicy.automated?.selfHeal ?? false,
    createNamespace: app.syncPolicy.createNamespace,
  };
}

/**
 * A form for an application: which folder of which repository goes to which context, how it
 * syncs, and what differences do not count. Given an `existing` application it edits that one
 * (its name stays). A new one can start from an Argo CD `Application` manifest.
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
  const [form, setForm] = useState<Form>(
    existing
      ? formOf(existing)
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
          sync: "manual",
          prune: false,
          selfHeal: false,
          createNamespace: false,
        },
  );
  const [rules, setRules] = useState<RuleRow[]>((existing?.ignore ?? []).map(toRow));
  // Kept as they are: the folder options and the Helm release name (set by an import too).
  const [directory, setDirectory] = useState<DirectoryOptions>(
    existing?.source.directory ?? {
      recurse: true,
      include: "",
      exclude: "",
      jsonnet: { extVars: [], tlas: [], libs: [] },
    },
  );
  const [releaseName, setReleaseName] = useState<string | null>(existing?.source.helm.releaseName ?? null);
  const [importing, setImporting] = useState(false);
  const [manifest, setManifest] = useState("");
  const [notes, setNotes] = useState<string[]>([]);
  const readManifest = async () => {
    setError(null);
    try {
      const imported = await backend.importArgocdApp(manifest);
      const next = formOf(imported.app);
      setForm({ ...next, context: next.context || form.context });
      setRules(imported.app.ignore.map(toRow));
      setDirectory(imported.app.source.directory);
      setReleaseName(imported.app.source.helm.releaseName);
      setNotes(imported.notes);
      setImporting(false);
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
  };
  const setRule = (index: number, change: Partial<RuleRow>) =>
    setRules(rules.map((r, i) => (i === index ? { ...r, ...change } : r)));
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
  const field = (name: Exclude<keyof Form, "prune" | "selfHeal" | "createNamespace">) => ({
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
        ignore: rules.map(toRule).filter((r) => r.jsonPointers.length > 0 || r.managedFieldsManagers.length > 0),
        syncPolicy: {
          automated: form.sync === "automated" ? { prune: form.prune, selfHeal: form.selfHeal } : null,
          createNamespace: form.createNamespace,
        },
        source: {
          type: form.sourceType === "" ? null : (form.sourceType as SourceType),
          helm: {
            releaseName,
            valuesFiles: form.valuesFiles
              .split(",")
              .map((f) => f.trim())
              .filter((f) => f !== ""),
            values: form.values,
          },
          directory,
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
      {!existing && !importing && (
        <button type="button" className="link" onClick={() => setImporting(true)}>
          Start from an Argo CD Application…
        </button>
      )}
      {importing && (
        <div className="import-argocd">
          <label>
            Argo CD Application manifest (YAML)
            <textarea
              rows={8}
              spellCheck={false}
              placeholder={"apiVersion: argoproj.io/v1alpha1\nkind: Application\n…"}
              value={manifest}
              onChange={(e) => setManifest(e.target.value)}
            />
          </label>
          <div className="form-actions">
            <button type="button" onClick={() => setImporting(false)}>
              Cancel
            </button>
            <button type="button" onClick={() => void readManifest()} disabled={manifest.trim() === ""}>
              Fill the form from it
            </button>
          </div>
        </div>
      )}
      {notes.length > 0 && (
        <div className="notice notice-info" role="status" aria-label="Import notes">
          <strong>Read from the Argo CD Application; check before adding.</strong>
          <ul>
            {notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </div>
      )}
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
          <option value="">
            Detect (Chart.yaml: Helm; kustomization.yaml: Kustomize; else a folder of YAML, JSON and Jsonnet)
          </option>
          <option value="Directory">Directory of YAML, JSON and Jsonnet</option>
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
      {(form.sourceType === "" || form.sourceType === "Directory") && (
        <JsonnetFields options={directory.jsonnet} onChange={(jsonnet) => setDirectory({ ...directory, jsonnet })} />
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
      <fieldset className="sync-policy">
        <legend>Sync policy</legend>
        <label>
          <input
            type="radio"
            name="sync-policy"
            checked={form.sync === "manual"}
            onChange={() => setForm({ ...form, sync: "manual" })}
          />
          Manual: sync when you choose
        </label>
        <label>
          <input
            type="radio"
            name="sync-policy"
            checked={form.sync === "automated"}
            onChange={() => setForm({ ...form, sync: "automated" })}
          />
          Automated: sync each new commit by itself while Plumbline runs
        </label>
        {form.sync === "automated" && (
          <div className="sync-policy-options">
            <label className="check">
              <input
                type="checkbox"
                checked={form.prune}
                onChange={(e) => setForm({ ...form, prune: e.target.checked })}
              />
              Prune resources removed from Git
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={form.selfHeal}
                onChange={(e) => setForm({ ...form, selfHeal: e.target.checked })}
              />
              Self-heal: sync back changes made in the cluster
            </label>
            <p className="hint">Protected contexts are never synced without you.</p>
          </div>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={form.createNamespace}
            onChange={(e) => setForm({ ...form, createNamespace: e.target.checked })}
          />
          Create the namespace when it does not exist (every sync)
        </label>
      </fieldset>
      <fieldset className="ignore-rules">
        <legend>Ignore differences</legend>
        {rules.length === 0 && <p className="hint">Every difference counts as drift.</p>}
        {rules.map((rule, i) => (
          <div className="ignore-rule" key={i} role="group" aria-label={`Ignore rule ${i + 1}`}>
            <input
              aria-label="Group"
              placeholder="group (apps)"
              value={rule.group}
              onChange={(e) => setRule(i, { group: e.target.value })}
            />
            <input
              aria-label="Kind"
              placeholder="kind (Deployment)"
              value={rule.kind}
              onChange={(e) => setRule(i, { kind: e.target.value })}
            />
            <input
              aria-label="Resource name"
              placeholder="name (any)"
              value={rule.name}
              onChange={(e) => setRule(i, { name: e.target.value })}
            />
            <input
              aria-label="JSON pointers"
              placeholder="/spec/replicas, …"
              value={rule.pointers}
              onChange={(e) => setRule(i, { pointers: e.target.value })}
            />
            <input
              aria-label="Managers"
              placeholder="field managers (hpa, …)"
              value={rule.managers}
              onChange={(e) => setRule(i, { managers: e.target.value })}
            />
            <button type="button" onClick={() => setRules(rules.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() =>
            setRules([...rules, { group: "", kind: "", namespace: "", name: "", pointers: "", managers: "" }])
          }
        >
          Add ignore rule
        </button>
      </fieldset>
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

/**
 * A folder's Jsonnet options, as Argo CD's `directory.jsonnet`: top-level arguments and external
 * variables (a string, or Jsonnet code), and the library folders imports are looked for in.
 */
function JsonnetFields({ options, onChange }: { options: JsonnetOptions; onChange: (next: JsonnetOptions) => void }) {
  const vars = (field: "tlas" | "extVars", title: string, noun: string, add: string) => (
    <fieldset className="jsonnet-vars">
      <legend>{title}</legend>
      {options[field].map((v, i) => {
        const set = (change: Partial<JsonnetVar>) =>
          onChange({ ...options, [field]: options[field].map((o, j) => (j === i ? { ...o, ...change } : o)) });
        return (
          <div className="jsonnet-var" role="group" aria-label={`${title} ${i + 1}`} key={i}>
            <label>
              {noun}
              <input value={v.name} onChange={(e) => set({ name: e.target.value })} />
            </label>
            <label>
              Value
              <input value={v.value} onChange={(e) => set({ value: e.target.value })} />
            </label>
            <label className="check">
              <input type="checkbox" checked={v.code} onChange={(e) => set({ code: e.target.checked })} />
              Jsonnet code
            </label>
            <button
              type="button"
              onClick={() => onChange({ ...options, [field]: options[field].filter((_, j) => j !== i) })}
            >
              Remove
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="link"
        onClick={() => onChange({ ...options, [field]: [...options[field], { name: "", value: "", code: false }] })}
      >
        {add}
      </button>
    </fieldset>
  );
  const set = options.tlas.length + options.extVars.length + options.libs.length > 0;
  return (
    <details className="jsonnet-options" open={set}>
      <summary>Jsonnet options (for the folder's .jsonnet files)</summary>
      {vars("tlas", "Top-level argument", "Argument", "Add top-level argument")}
      {vars("extVars", "External variable", "Variable", "Add external variable")}
      <label>
        Library paths (comma-separated, from the repository root)
        <input
          placeholder="vendor, lib"
          value={options.libs.join(", ")}
          onChange={(e) => onChange({ ...options, libs: list(e.target.value) })}
        />
      </label>
    </details>
  );
}
