import { useEffect, useRef, useState, type FormEvent } from "react";
import { useBackend } from "../backend/context";
import {
  toBackendError,
  type ErrorInfo,
  type HostKeyPrompt,
  type RepoAuth,
  type RepoInfo,
  type SecretKind,
  type TransferProgress,
} from "../backend";
import { ErrorNotice } from "../components/ErrorNotice";
import type { Load } from "../useLoad";

/** Which secret an auth method keeps in the keyring, and what the user calls it. */
function secretOf(auth: RepoAuth): { kind: SecretKind; label: string } | null {
  switch (auth.method) {
    case "https":
      return { kind: "password", label: "Password or token" };
    case "sshKey":
      return { kind: "keyPassphrase", label: "Key passphrase" };
    default:
      return null;
  }
}

function describeAuth(auth: RepoAuth): string {
  switch (auth.method) {
    case "none":
      return "No authentication";
    case "https":
      return `HTTPS as ${auth.username}`;
    case "sshKey":
      return `SSH key ${auth.keyPath}${auth.username ? ` as ${auth.username}` : ""}`;
    case "sshAgent":
      return `SSH agent${auth.username ? ` as ${auth.username}` : ""}`;
    case "credentialHelper":
      return "Git credential helper";
  }
}

/** The Repositories screen: what is added, how it is reached, and the state of each clone. */
export function Repositories({ repos, onChanged }: { repos: Load<RepoInfo[]>; onChanged: () => void }) {
  const [adding, setAdding] = useState(false);
  const [fetchNow, setFetchNow] = useState<string | null>(null);
  return (
    <section className="screen" aria-labelledby="repos-title">
      <header className="screen-header">
        <h1 id="repos-title">Repositories</h1>
        {!adding && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add repository
          </button>
        )}
      </header>
      <p className="screen-intro">
        Plumbline keeps a clone of each repository in its data folder. Passwords, tokens and key passphrases are kept
        only in your system keyring.
      </p>
      {adding && (
        <RepoForm
          onAdded={(url) => {
            setAdding(false);
            setFetchNow(url);
            onChanged();
          }}
          onCancel={() => setAdding(false)}
        />
      )}
      {repos.state === "failed" && <ErrorNotice title="Repositories could not be read." error={repos.error} />}
      {repos.value?.length === 0 && !adding && <p className="empty">No repositories yet.</p>}
      <ul className="repo-list" aria-label="Repositories">
        {repos.value?.map((repo) => (
          <RepoCard key={repo.url} repo={repo} fetchFirst={fetchNow === repo.url} onChanged={onChanged} />
        ))}
      </ul>
    </section>
  );
}

/** Adds a repository, or, given `existing`, changes how it is reached (its URL names it). */
function RepoForm({
  existing,
  onAdded,
  onCancel,
}: {
  existing?: RepoInfo;
  onAdded: (url: string) => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const [url, setUrl] = useState(existing?.url ?? "");
  const [method, setMethod] = useState<RepoAuth["method"]>(existing?.auth.method ?? "none");
  const [username, setUsername] = useState(existing && "username" in existing.auth ? existing.auth.username : "");
  const [keyPath, setKeyPath] = useState(
    existing?.auth.method === "sshKey" ? existing.auth.keyPath : "~/.ssh/id_ed25519",
  );
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [saving, setSaving] = useState(false);

  const auth = ((): RepoAuth => {
    switch (method) {
      case "https":
        return { method, username: username.trim() };
      case "sshKey":
        return { method, username: username.trim(), keyPath: keyPath.trim() };
      case "sshAgent":
        return { method, username: username.trim() };
      default:
        return { method };
    }
  })();
  const secretField = secretOf(auth);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      if (existing) {
        await backend.updateRepo({ url: existing.url, auth });
        if (secretField && secret) await backend.setRepoSecret(existing.url, secretField.kind, secret);
      } else {
        await backend.addRepo({ url: url.trim(), auth }, secretField && secret ? secret : null);
      }
      setSecret("");
      onAdded(url.trim());
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="add-app" onSubmit={submit} aria-label={existing ? `Edit ${existing.url}` : "Add repository"}>
      <h2>{existing ? "Edit repository" : "Add repository"}</h2>
      <label>
        URL
        <input
          required
          placeholder="https://github.com/team/deploy.git or git@github.com:team/deploy.git"
          readOnly={existing !== undefined}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
      </label>
      <div className="field">
        <label htmlFor="repo-auth">Authentication</label>
        <select id="repo-auth" value={method} onChange={(e) => setMethod(e.target.value as RepoAuth["method"])}>
          <option value="none">None (public repository)</option>
          <option value="https">HTTPS username and password or token</option>
          <option value="sshKey">SSH key file</option>
          <option value="sshAgent">SSH agent</option>
          <option value="credentialHelper">Git credential helper</option>
        </select>
      </div>
      {(method === "https" || method === "sshKey" || method === "sshAgent") && (
        <label>
          Username
          <input
            required={method === "https"}
            placeholder={method === "https" ? "your user name" : "git (from the URL if empty)"}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
      )}
      {method === "sshKey" && (
        <label>
          Private key file
          <input required value={keyPath} onChange={(e) => setKeyPath(e.target.value)} />
        </label>
      )}
      {secretField && (
        <div className="field">
          <label htmlFor="repo-secret">{secretField.label}</label>
          <input
            id="repo-secret"
            type="password"
            autoComplete="off"
            aria-describedby="repo-secret-hint"
            placeholder={method === "sshKey" ? "empty if the key has none" : ""}
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
          />
          <span id="repo-secret-hint" className="hint">
            Stored in your system keyring, never in Plumbline's files.
          </span>
        </div>
      )}
      {error && (
        <ErrorNotice
          title={existing ? "The repository was not changed." : "The repository was not added."}
          error={error}
        />
      )}
      <div className="form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : existing ? "Save" : "Add and fetch"}
        </button>
      </div>
    </form>
  );
}

type Fetching = { progress: TransferProgress | null };

function RepoCard({ repo, fetchFirst, onChanged }: { repo: RepoInfo; fetchFirst: boolean; onChanged: () => void }) {
  const backend = useBackend();
  const [fetching, setFetching] = useState<Fetching | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const secret = secretOf(repo.auth);
  const hasSecret = secret?.kind === "password" ? repo.hasPassword : repo.hasKeyPassphrase;

  const fetch = async () => {
    setFetching({ progress: null });
    setError(null);
    setNotice(null);
    try {
      const outcome = await backend.fetchRepo(repo.url, (progress) => setFetching({ progress }));
      const pushed = outcome.forcePushed.map(
        (p) => `${p.branch} was force-pushed (${p.old.slice(0, 7)} → ${p.new.slice(0, 7)})`,
      );
      setNotice([outcome.cloned ? "Cloned." : "Fetched.", ...pushed].join(" "));
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    } finally {
      setFetching(null);
      onChanged();
    }
  };
  // A repository just added is cloned at once, with its progress in its card.
  const startedFirst = useRef(false);
  useEffect(() => {
    if (fetchFirst && !startedFirst.current) {
      startedFirst.current = true;
      void fetch();
    }
    // Runs once when the card is told to clone; `fetch` is a new closure on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fetchFirst]);

  const act = async (action: () => Promise<unknown>, then?: () => void) => {
    setError(null);
    try {
      await action();
      onChanged();
      then?.();
    } catch (thrown) {
      setError(toBackendError(thrown).info);
    }
  };

  const total = fetching?.progress?.totalObjects ?? 0;
  const received = fetching?.progress?.receivedObjects ?? 0;
  return (
    <li className="repo-card" aria-label={repo.url}>
      <div className="repo-head">
        <code className="repo-url">{repo.url}</code>
        <span className={repo.cloned ? "tag" : "tag tag-muted"}>{repo.cloned ? "cloned" : "not cloned yet"}</span>
      </div>
      <p className="repo-auth">{describeAuth(repo.auth)}</p>
      {editing && (
        <RepoForm
          existing={repo}
          onAdded={() => {
            setEditing(false);
            onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      {secret && (
        <SecretRow
          label={secret.label}
          stored={hasSecret}
          onSave={(value) => act(() => backend.setRepoSecret(repo.url, secret.kind, value))}
          onDelete={() => act(() => backend.deleteRepoSecret(repo.url, secret.kind))}
        />
      )}
      {fetching && (
        <div className="repo-progress" role="status">
          <progress max={total || undefined} value={total ? received : undefined} aria-label="Objects received" />
          <span>{total ? `Receiving objects: ${received} of ${total}` : "Connecting…"}</span>
          <button type="button" onClick={() => void backend.cancelFetch(repo.url)}>
            Cancel
          </button>
        </div>
      )}
      {notice && !fetching && (
        <p className="notice notice-ok" role="status">
          {notice}
        </p>
      )}
      {error?.code === "NeedsCredentials" && secret && (
        <CredentialPrompt
          error={error}
          label={secret.label}
          onSave={(value) =>
            act(
              () => backend.setRepoSecret(repo.url, secret.kind, value),
              () => void fetch(),
            )
          }
        />
      )}
      {error?.code === "UnknownHostKey" && error.hostKey && (
        <HostKeyDialog
          prompt={error.hostKey}
          onTrust={(key) =>
            act(
              () => backend.acceptHostKey(key.host, key.port, key.key),
              () => void fetch(),
            )
          }
          onReject={() => setError(null)}
        />
      )}
      {error && !(error.code === "NeedsCredentials" && secret) && error.code !== "UnknownHostKey" && (
        <ErrorNotice title={error.code === "Cancelled" ? "Fetch cancelled." : "The fetch failed."} error={error} />
      )}
      {!error && repo.lastError && !fetching && !notice && (
        <ErrorNotice
          title="The last fetch failed; the clone before it is still used."
          error={{ code: "Repository", message: repo.lastError, detail: null, hostKey: null }}
        />
      )}
      <div className="form-actions">
        <button type="button" disabled={fetching !== null} onClick={() => void fetch()}>
          {repo.cloned ? "Fetch" : "Clone"}
        </button>
        <button type="button" onClick={() => setEditing(true)} disabled={editing}>
          Edit
        </button>
        <button type="button" className="danger" onClick={() => void act(() => backend.removeRepo(repo.url))}>
          Remove
        </button>
      </div>
    </li>
  );
}

/** A secret's state: only whether it is stored, with Replace and Delete; never its value. */
function SecretRow({
  label,
  stored,
  onSave,
  onDelete,
}: {
  label: string;
  stored: boolean;
  onSave: (value: string) => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState("");
  if (editing) {
    return (
      <form
        className="secret-row"
        aria-label={label}
        onSubmit={(e) => {
          e.preventDefault();
          void onSave(value).then(() => {
            setValue("");
            setEditing(false);
          });
        }}
      >
        <label>
          {label}
          <input type="password" autoComplete="off" required value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Save to keyring
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </form>
    );
  }
  return (
    <div className="secret-row">
      <span>
        {label}: {stored ? "stored in keyring" : "not stored"}
      </span>
      <button type="button" onClick={() => setEditing(true)}>
        {stored ? `Replace ${label.toLowerCase()}` : `Set ${label.toLowerCase()}`}
      </button>
      {stored && (
        <button type="button" className="danger" onClick={() => void onDelete()}>
          Delete {label.toLowerCase()}
        </button>
      )}
    </div>
  );
}

function CredentialPrompt({
  error,
  label,
  onSave,
}: {
  error: ErrorInfo;
  label: string;
  onSave: (value: string) => Promise<void>;
}) {
  const [value, setValue] = useState("");
  return (
    <form
      className="notice notice-error"
      aria-label="Credentials needed"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave(value);
        setValue("");
      }}
    >
      <strong>Credentials needed.</strong>
      <p role="alert">{error.message}</p>
      <label>
        {label}
        <input type="password" autoComplete="off" required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" className="primary">
        Save to keyring and retry
      </button>
    </form>
  );
}

function HostKeyDialog({
  prompt,
  onTrust,
  onReject,
}: {
  prompt: HostKeyPrompt;
  onTrust: (key: HostKeyPrompt) => Promise<void>;
  onReject: () => void;
}) {
  const where = prompt.port === 22 ? prompt.host : `${prompt.host} port ${prompt.port}`;
  return (
    <div className="dialog" role="dialog" aria-modal="false" aria-labelledby="host-key-title">
      <h3 id="host-key-title">Trust the SSH server {where}?</h3>
      <p>Plumbline has not connected to this server before. Its {prompt.keyType} key has the fingerprint</p>
      <p>
        <code className="fingerprint">{prompt.fingerprint}</code>
      </p>
      <p>Compare it with the fingerprint the server's owner publishes. Trust it only if they match.</p>
      <div className="form-actions">
        <button type="button" onClick={onReject}>
          Don't connect
        </button>
        <button type="button" className="primary" onClick={() => void onTrust(prompt)}>
          Trust and connect
        </button>
      </div>
    </div>
  );
}
