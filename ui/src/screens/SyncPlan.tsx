import { useState } from "react";
import { useBackend } from "../backend/context";
import type { PlanStep, ResourceKey, SyncOptions } from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import { keyId, resourceLabel } from "../format";
import { useLoad } from "../useLoad";

const ACTION_WORDS: Record<PlanStep["action"], string> = {
  Create: "create",
  Update: "update",
  NoOp: "no change",
  Prune: "prune",
  PruneSkipped: "prune skipped",
};

/**
 * What a sync will do, from the engine, before anything changes: every resource with its
 * action, phase, wave and hook, in order. The options and the resources chosen here are what
 * the sync then runs with.
 */
export function SyncPlan({
  name,
  createNamespace = false,
  onStart,
  onCancel,
}: {
  name: string;
  /** The app's sync policy creates the namespace: the option starts ticked. */
  createNamespace?: boolean;
  onStart: (options: SyncOptions) => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const [flags, setFlags] = useState({ prune: false, dryRun: false, forceConflicts: false, createNamespace });
  // Resources left out by the user; empty means all (no selective sync).
  const [left, setLeft] = useState<Set<string>>(new Set());
  const options = (resources: ResourceKey[]): SyncOptions => ({ ...flags, resources, timeout: null });
  const [plan] = useLoad(() => backend.planSync(name, options([])), `${name}:${JSON.stringify(flags)}`);

  const steps = plan.value?.steps ?? [];
  const choosable = steps.filter((s) => s.hook === null);
  const chosen = choosable.filter((s) => !left.has(keyId(s.key)));
  const selective = left.size > 0;
  const changes = (selective ? chosen : steps).filter((s) => ["Create", "Update", "Prune"].includes(s.action)).length;
  const toggle = (key: ResourceKey) => {
    const next = new Set(left);
    if (next.has(keyId(key))) next.delete(keyId(key));
    else next.add(keyId(key));
    setLeft(next);
  };
  const flag = (field: keyof typeof flags, label: string, hint: string) => (
    <label className="check" title={hint}>
      <input
        type="checkbox"
        checked={flags[field]}
        onChange={(e) => setFlags({ ...flags, [field]: e.target.checked })}
      />
      {label}
    </label>
  );

  return (
    <section className="sync-plan" aria-label="Sync plan">
      <header>
        <h2>Sync plan</h2>
        <p className="muted">
          {plan.value ? (
            <>
              {changes} {changes === 1 ? "change" : "changes"} to <code>{plan.value.commit.sha.slice(0, 7)}</code>{" "}
              {plan.value.commit.summary}
              {selective && ` · only ${chosen.length} chosen resources, no hooks`}
            </>
          ) : (
            "Planning…"
          )}
        </p>
      </header>
      <fieldset className="sync-options">
        <legend>Options</legend>
        {flag("prune", "Prune", "Delete resources the app tracks that are no longer in Git")}
        {flag("dryRun", "Dry run", "Check every step on the server and change nothing")}
        {flag("forceConflicts", "Force conflicts", "Take fields another field manager owns")}
        {flag("createNamespace", "Create namespace", "Create the destination namespace if it does not exist")}
      </fieldset>
      {plan.state === "failed" && <ErrorNotice title="The plan could not be made." error={plan.error} />}
      {plan.value?.missingNamespace && (
        <div className="notice notice-warning" role="alert">
          The namespace <code>{plan.value.missingNamespace}</code> does not exist, so this sync would fail.{" "}
          <button type="button" onClick={() => setFlags({ ...flags, createNamespace: true })}>
            Create it in this sync
          </button>
        </div>
      )}
      <table className="plan" aria-label="Plan steps">
        <thead>
          <tr>
            <th>
              <span className="visually-hidden">Include</span>
            </th>
            <th>#</th>
            <th>Phase</th>
            <th>Wave</th>
            <th>Action</th>
            <th>Resource</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step, index) => {
            const id = keyId(step.key);
            return (
              <tr key={`${step.phase}:${id}`} data-action={step.action}>
                <td>
                  {step.hook === null ? (
                    <input
                      type="checkbox"
                      aria-label={`Include ${resourceLabel(step.key)}`}
                      checked={!left.has(id)}
                      onChange={() => toggle(step.key)}
                    />
                  ) : null}
                </td>
                <td>{index + 1}</td>
                <td>{step.phase}</td>
                <td>{step.wave}</td>
                <td className={`action action-${step.action}`}>{ACTION_WORDS[step.action]}</td>
                <td>
                  {resourceLabel(step.key)}
                  {step.generateName && <span title="named by the server at each run">…</span>}
                  {step.hook !== null && <span className="hook-tag"> hook ({step.hook.join(", ")})</span>}
                  {step.note && <div className="resource-message">{step.note}</div>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={!plan.value || plan.state === "loading" || (selective && chosen.length === 0)}
          onClick={() => onStart(options(selective ? chosen.map((s) => s.key) : []))}
        >
          {flags.dryRun ? "Dry run" : selective ? `Sync ${chosen.length} resources` : "Sync now"}
        </button>
      </div>
    </section>
  );
}
