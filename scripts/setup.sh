#!/usr/bin/env bash
# Install what the product needs on a Debian machine and a virtualenv in .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)  # the browser tests drive Debian's Chromium
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The socket.io browser client, from the npm registry (not committed).
client=agent_ui/static/vendor/socket.io.min.js
if [ ! -f "$client" ]; then
  scratch=$(mktemp -d)
  (cd "$scratch" && npm pack --silent socket.io-client@4.8 >/dev/null && tar -xzf socket.io-client-*.tgz)
  mkdir -p "$(dirname "$client")"
  cp "$scratch/package/dist/socket.io.min.js" "$client"
  rm -rf "$scratch"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v -i "warning" || true
  .venv/bin/pip install -q -e ".[test]" 2>&1 | grep -v -i -E "warning|BuildBackend|^\s|^$" || true
  .venv/bin/python -c "import agent_ui.cli, crm.models, telephony.ami" # fail here if the install did not work
  rm -f .venv/.installed-*
  touch "$stamp"
fi
