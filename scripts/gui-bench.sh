#!/usr/bin/env bash
# GUI figures, measured on this machine in one run: the desktop app's
# start-to-first-frame time, and its idle tray memory against a bare Fyne tray
# app. Run through `make bench-gui`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/baretray" ./internal/bench/baretray
bin=$PWD/bin/agentvault
export LANG=en_US.UTF-8

display=:$((100 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY=$display
sleep 1
bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 --address=unix:dir="$work")
export DBUS_SESSION_BUS_ADDRESS=$(echo "$bus" | head -1)
pids+=($(echo "$bus" | tail -1))

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
idle() { # command…: start it, wait, print its RSS in kB
  "$@" >/dev/null 2>&1 & local pid=$!; pids+=($pid); sleep 4; rss "$pid"; kill "$pid"; wait "$pid" 2>/dev/null || true
}
runs=3
bare=0; app=0
for _ in $(seq $runs); do
  bare=$((bare + $(idle "$work/baretray")))
  app=$((app + $(idle "$bin" --data "$work/data" --listen 127.0.0.1:0)))
done
bare=$((bare / runs)); app=$((app / runs))

# Start to first frame: without a session bus the window opens at start.
frames=()
for _ in $(seq $runs); do
  start=$(date +%s%N)
  env -u DBUS_SESSION_BUS_ADDRESS "$bin" --data "$work/data" --listen 127.0.0.1:0 >/dev/null 2>&1 & pid=$!; pids+=($pid)
  xdotool search --sync --onlyvisible --name '^AgentVault$' >/dev/null
  frames+=($(( ($(date +%s%N) - start) / 1000000 )))
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo "GUI benchmark — $(nproc) cores, $(go version | cut -d' ' -f3), $runs runs, Xvfb with software GL"
printf '%-44s %8s\n' "bare Fyne tray app, idle RSS" "$((bare / 1024)) MB"
printf '%-44s %8s\n' "AgentVault in the tray (server running), idle RSS" "$((app / 1024)) MB"
printf '%-44s %8s\n' "  above the bare tray app" "$(((app - bare) / 1024)) MB"
printf '%-44s %8s\n' "start to first window frame (each run, ms)" "${frames[*]}"
