import type { HealthStatus } from "../backend";

// UI.md's health language: an icon and a word with every colour. Plain text glyphs, not emoji:
// a desktop without an emoji font would show empty boxes.
const LOOK: Record<HealthStatus, { icon: string; tone: string }> = {
  Healthy: { icon: "♥", tone: "ok" },
  Progressing: { icon: "◔", tone: "progress" },
  Degraded: { icon: "✕", tone: "bad" },
  Suspended: { icon: "‖", tone: "muted" },
  Missing: { icon: "◌", tone: "missing" },
  Unknown: { icon: "?", tone: "unknown" },
};

/** A health badge; `message` (the rule's explanation) becomes its tooltip. */
export function HealthBadge({ status, message }: { status: HealthStatus; message?: string }) {
  const look = LOOK[status];
  return (
    <span className={`badge badge-${look.tone}`} data-health={status} title={message || undefined}>
      <span className="badge-icon" aria-hidden="true">
        {look.icon}
      </span>
      {status}
    </span>
  );
}
