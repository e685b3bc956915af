#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages AgentVault needs, only those missing:
# `install-deps.sh run` what building and running the desktop app needs,
# `install-deps.sh test` that and what the tests need, `install-deps.sh
# package` that and what `make package` needs. Run as root (CI is);
# otherwise it prints the apt command.
set -euo pipefail
run=(
  gcc libc6-dev pkg-config                    # cgo
  libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev  # Fyne
)
test=(
  dbus-daemon dbus-bin                        # private session buses for notification tests
  xvfb xauth x11-utils dunst                  # a virtual display (xwininfo sees its windows) and a real notification daemon
  gnome-keyring                               # a real keychain (Secret Service)
  bubblewrap                                  # the sandbox of agentvault run and contained servers
)
package=(
  dpkg-dev file                               # dpkg-shlibdeps for the .deb's dependencies; checks
  gcc-mingw-w64-x86-64                        # the Windows build's cgo
)
case "${1:-}" in
  run) packages=("${run[@]}") ;;
  test) packages=("${run[@]}" "${test[@]}" dpkg-dev) ;;
  package) packages=("${run[@]}" "${package[@]}") ;;
  *) echo "usage: $0 run|test|package" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]}…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
