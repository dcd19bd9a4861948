import { Component, type ErrorInfo as ReactErrorInfo, type ReactNode } from "react";
import { toBackendError } from "../backend";
import type { ErrorInfo } from "../backend";

/** An error in place: what failed, and what to do. */
export function ErrorNotice({ error, title }: { error: ErrorInfo; title?: string }) {
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title}</strong>}
      <p>{error.message}</p>
      {error.detail && <p className="notice-detail">{error.detail}</p>}
    </div>
  );
}

/** Catches render errors so a failure shows as words, never as a blank window. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: ErrorInfo | null }> {
  state = { error: null as ErrorInfo | null };

  static getDerivedStateFromError(thrown: unknown) {
    return { error: toBackendError(thrown).info };
  }

  componentDidCatch(thrown: unknown, info: ReactErrorInfo) {
    console.error("Plumbline UI error", thrown, info.componentStack);
  }

  render() {
    if (this.state.error) {
      return (
        <div className="screen">
          <ErrorNotice title="This screen failed to draw." error={this.state.error} />
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
