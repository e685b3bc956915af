#!/usr/bin/env bash
# Builds and checks AgentVault's packages; the Makefile passes the versions.
#
#   package.sh deb BIN DEB_VERSION OUT.deb   a Debian package of the linux/amd64 binary BIN
#   package.sh check-deb OUT.deb             install it with dpkg into a temporary root, run it, remove it
#   package.sh bundle BIN APP_VERSION DIST   the Fyne desktop bundle (.tar.xz) of BIN
#   package.sh exe APP_VERSION COMMIT DATE DIST  the Windows GUI executable, cross-built with mingw-w64
#
# Nothing here runs as root inside a package: the .deb has no maintainer
# scripts, and desktop caches are refreshed by dpkg's own triggers.
set -euo pipefail
cd "$(dirname "$0")/.."

# FYNE is the Fyne packaging tool, built for this machine once: as a go.mod
# tool it would pull the app onto its Fyne version, and `go run` would build
# it with the Windows C compiler the exe step sets.
FYNE="$PWD/bin/tools/fyne-v1.7.4"
need_fyne() {
  [ -x "$FYNE" ] && return
  GOBIN="$(dirname "$FYNE")" go install fyne.io/tools/cmd/fyne@v1.7.4
  mv "$(dirname "$FYNE")/fyne" "$FYNE"
}

# stage copies the source tree to a temporary folder: `fyne package` writes
# into the tree it packages (it bumps FyneApp.toml's build number, adds
# resource files), and the user's tree must stay as it is.
stage() {
  local dir
  dir=$(mktemp -d)
  tar -c --exclude=./.git --exclude=./bin --exclude=./dist --exclude=./e2e/node_modules . | tar -x -C "$dir"
  echo "$dir"
}

deb() {
  local bin=$1 version=$2 out=$3 root
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  install -Dm755 "$bin" "$root/usr/bin/agentvault"
  install -Dm644 assets/agentvault.desktop "$root/usr/share/applications/dev.agentvault.app.desktop"
  go run ./scripts/icons assets/icon.png "$root/usr/share/icons/hicolor"
  install -d "$root/usr/share/doc/agentvault"
  gzip -9n < README.md > "$root/usr/share/doc/agentvault/README.md.gz"

  # dpkg-shlibdeps names the packages of the libraries the binary links
  # (libc, GL, X11); it wants a debian/control beside it.
  local depends
  mkdir -p "$root/debian" && touch "$root/debian/control"
  depends=$(cd "$root" && dpkg-shlibdeps -O -e usr/bin/agentvault 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  rm -r "$root/debian"
  [ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies of $bin"

  mkdir -p "$root/DEBIAN"
  cat > "$root/DEBIAN/control" <<EOF
Package: agentvault
Version: $version
Architecture: amd64
Maintainer: AgentVault developers <dev@agentvault.dev>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Suggests: bubblewrap, gnome-keyring
Section: utils
Priority: optional
Homepage: https://github.com/agentvault/agentvault
Description: permissions, approvals and audit for AI agents
 AgentVault lives in the system tray and gives every AI agent its own vault:
 a local MCP URL and token with a per-tool policy (allow, ask, block),
 approvals from notifications, and an audit log. Credentials stay in the
 keychain; agents never see them.
EOF
  mkdir -p "$(dirname "$out")"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
  echo "$out"
}

check_deb() {
  local deb=$1 root failed=0
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  # A dpkg database of its own: the package's dependencies are this
  # machine's, not the temporary root's, hence --force-depends.
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
  touch "$root/var/lib/dpkg/status"
  dpkg --root="$root" --log=/dev/null --force-not-root --force-depends --force-script-chrootless -i "$deb" >/dev/null 2>&1 || die "dpkg could not install $deb"
  local bin="$root/usr/bin/agentvault"
  local version
  version=$("$bin" version) || die "the installed binary does not run"
  "$bin" version --json | grep -q '"version": "[0-9]' || { echo "the installed binary has no version: $version" >&2; failed=1; }
  for f in usr/share/applications/dev.agentvault.app.desktop usr/share/icons/hicolor/16x16/apps/agentvault.png usr/share/icons/hicolor/256x256/apps/agentvault.png; do
    [ -s "$root/$f" ] || { echo "missing /$f" >&2; failed=1; }
  done
  grep -qx 'Exec=agentvault' "$root/usr/share/applications/dev.agentvault.app.desktop" || { echo "the desktop entry does not start agentvault from PATH" >&2; failed=1; }
  local depends
  depends=$(dpkg-deb -f "$deb" Depends)
  for lib in libc6 libgl1 libx11-6; do
    [[ "$depends" == *"$lib"* ]] || { echo "Depends lacks $lib: $depends" >&2; failed=1; }
  done
  [[ "$(dpkg-deb -f "$deb" Suggests)" == *bubblewrap* ]] || { echo "Suggests lacks bubblewrap" >&2; failed=1; }
  if dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qE 'preinst|postinst|prerm|postrm'; then
    echo "the package has maintainer scripts" >&2; failed=1
  fi
  if dpkg-deb -c "$deb" | awk '{print $2}' | grep -qv '^root/root$'; then
    echo "files not owned by root" >&2; failed=1
  fi
  dpkg --root="$root" --log=/dev/null --force-not-root --force-script-chrootless -r agentvault >/dev/null
  [ -z "$(find "$root/usr" -type f 2>/dev/null)" ] || { echo "removing the package left files: $(find "$root/usr" -type f)" >&2; failed=1; }
  [ $failed = 0 ] || die "$deb failed its check"
  echo "$deb: installs /usr/bin/agentvault ($version), its desktop entry and icons; Depends: $depends"
}

bundle() {
  local bin=$1 version=$2 dist=$3 src
  src=$(stage)
  trap 'rm -rf "$src"' RETURN
  cp "$bin" "$src/agentvault"
  need_fyne
  (cd "$src" && "$FYNE" package -os linux --release --executable agentvault --app-version "$version")
  mkdir -p "$dist"
  mv "$src/AgentVault.tar.xz" "$dist/agentvault-$version-linux-amd64.tar.xz"
  tar -tJf "$dist/agentvault-$version-linux-amd64.tar.xz" | grep -q 'share/applications/dev.agentvault.app.desktop$' || die "the bundle lacks its desktop entry"
  echo "$dist/agentvault-$version-linux-amd64.tar.xz"
}

exe() {
  local version=$1 commit=$2 date=$3 dist=$4 src
  command -v x86_64-w64-mingw32-gcc >/dev/null || die "no x86_64-w64-mingw32-gcc (package gcc-mingw-w64-x86-64)"
  src=$(stage)
  trap 'rm -rf "$src"' RETURN
  # The Fyne tool builds Windows apps twice (before and after embedding the
  # icon) and passes GOFLAGS' linker flags only to the first build: the
  # staged copy gets the version as code instead.
  printf 'package main\n\nfunc init() { version, commit, date = "%s", "%s", "%s" }\n' "$version" "$commit" "$date" > "$src/version_package.go"
  need_fyne
  echo "Cross-building the Windows app with mingw-w64: the first build takes about 10 minutes…"
  (cd "$src" && CC=x86_64-w64-mingw32-gcc "$FYNE" package -os windows --release --app-version "$version")
  mkdir -p "$dist"
  local exe="$dist/agentvault-$version-windows-amd64.exe"
  mv "$src/AgentVault.exe" "$exe"
  file "$exe" | grep -q 'PE32+ executable (GUI) x86-64' || die "not a PE32+ GUI executable: $(file "$exe")"
  grep -q "$date" "$exe" || die "$exe does not carry its version"
  echo "$exe"
}

case "${1:-}" in
  deb) [ $# = 4 ] || die "usage: package.sh deb BIN DEB_VERSION OUT.deb"; deb "$2" "$3" "$4" ;;
  check-deb) [ $# = 2 ] || die "usage: package.sh check-deb OUT.deb"; check_deb "$2" ;;
  bundle) [ $# = 4 ] || die "usage: package.sh bundle BIN APP_VERSION DIST"; bundle "$2" "$3" "$4" ;;
  exe) [ $# = 5 ] || die "usage: package.sh exe APP_VERSION COMMIT DATE DIST"; exe "$2" "$3" "$4" "$5" ;;
  *) die "usage: package.sh deb|check-deb|bundle|exe …" ;;
esac
