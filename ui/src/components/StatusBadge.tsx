import type { ResourceSync, ResultStatus, SyncStatus } from "../backend";

type Status = SyncStatus | ResourceSync | ResultStatus;

// Same words, icons and colours everywhere (UI.md): never colour alone.
const LOOK: Record<Status, { icon: string; label: string; tone: string }> = {
  Synced: { icon: "✓", label: "Synced", tone: "ok" },
  OutOfSync: { icon: "↑", label: "OutOfSync", tone: "warn" },
  Unknown: { icon: "?", label: "Unknown", tone: "muted" },
  Missing: { icon: "◌", label: "Missing", tone: "missing" },
  RequiresPruning: { icon: "✂", label: "Requires pruning", tone: "warn" },
  SyncFailed: { icon: "✕", label: "Sync failed", tone: "bad" },
  Skipped: { icon: "–", label: "Skipped", tone: "muted" },
  Pruned: { icon: "✂", label: "Pruned", tone: "ok" },
  PruneSkipped: { icon: "✂", label: "Prune skipped", tone: "muted" },
};

export function StatusBadge({ status }: { status: Status }) {
  const look = LOOK[status];
  return (
    <span className={`badge badge-${look.tone}`} data-status={status}>
      <span className="badge-icon" aria-hidden="true">
        {look.icon}
      </span>
      {look.label}
    </span>
  );
}
