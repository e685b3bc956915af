#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages AgentVault's build and tests need, only
# those missing. Run as root (CI is); otherwise it prints the apt command.
set -euo pipefail
packages=(
  gcc libc6-dev pkg-config                    # cgo
  libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev  # Fyne
  dbus-daemon dbus-bin                        # private session buses for notification tests
  xvfb xauth dunst                            # a virtual display and a real notification daemon
  gnome-keyring                               # a real keychain (Secret Service)
)
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
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
