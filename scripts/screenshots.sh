#!/usr/bin/env bash
# Takes a screenshot of every screen of the real desktop app (the cgo
# binary) under Xvfb, into docs/screenshots/. Run through `make screenshots`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin/agentvault
out=$PWD/docs/screenshots
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

export AGENTVAULT_DATA=$work/data LANG=en_US.UTF-8
unset DBUS_SESSION_BUS_ADDRESS # no tray: the window opens at once, approvals ask in a prompt window
mkdir -p "$work/projects" && echo "hello" > "$work/projects/README.md"
av() { "$bin" "$@"; }
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }

av service add-mcp fs --command "$PWD/e2e/node_modules/.bin/mcp-server-filesystem $work/projects" >/dev/null
work_vault=$(av vault create claude-work --service fs --json)
av vault create reviewer --service fs >/dev/null
av vault policy reviewer 'fs_*' block >/dev/null
av vault policy reviewer fs_read_text_file allow >/dev/null
av vault guard claude-work path "$work/projects" >/dev/null
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port/v/$(echo "$work_vault" | json id)/mcp
token=$(echo "$work_vault" | json token)

display=:$((100 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY=$display
sleep 1
av --listen "127.0.0.1:$port" >"$work/app.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do grep -q "serving on" "$work/app.log" && break; sleep 0.2; done

node e2e/tools/call.mjs "$url" "$token" fs_list_directory "{\"path\":\"$work/projects\"}" >/dev/null
node e2e/tools/call.mjs "$url" "$token" fs_read_text_file "{\"path\":\"$work/projects/README.md\"}" >/dev/null
node e2e/tools/call.mjs "$url" "$token" fs_create_directory "{\"path\":\"$work/projects/release\"}" >/dev/null 2>&1 & pids+=($!)
sleep 3

shot() { sleep 1; import -window root -crop 980x660+0+0 +repage "$out/$1.png"; echo "docs/screenshots/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; }
# The prompt window (no notification buttons here) sits over the main window:
shot approval-prompt
xdotool search --name "Approve\\?" windowmove 1400 900 2>/dev/null || true # out of view
xdotool search --name "^AgentVault$" windowactivate 2>/dev/null || true
click 33 21;  shot vaults
click 272 221; shot vault-guards
click 392 221; shot vault-connect
click 110 21; shot approvals
click 193 21; shot services
click 273 21; shot audit
click 354 21; shot settings
click 33 21; click 110 637; shot wizard
