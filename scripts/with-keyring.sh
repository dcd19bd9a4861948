#!/usr/bin/env bash
# Runs a command with the real Secret Service: a private D-Bus session with GNOME Keyring
# unlocked, keeping its files in a temporary folder (never the user's own keyring); and an
# ssh-agent of its own, stopped afterwards.
#   scripts/with-keyring.sh cargo test --workspace
set -euo pipefail
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -m 700 "$state/data" "$state/runtime"
export XDG_DATA_HOME="$state/data" XDG_RUNTIME_DIR="$state/runtime"
# The keyring daemon leaves with the session bus when the command ends.
dbus-run-session -- sh -c '
  eval "$(printf %s plumbline-tests | gnome-keyring-daemon --unlock --components=secrets)"
  eval "$(ssh-agent -s)" >/dev/null
  trap "ssh-agent -k >/dev/null" EXIT
  "$@"
' sh "$@"
