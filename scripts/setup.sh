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

# Browser libraries from the npm registry (not committed): the socket.io client and Chart.js
# (the wallboard's report charts) and wavesurfer.js (the QA player's waveforms).
fetch_npm() {  # package@version, file in the package, where to put it
  [ -f "$3" ] && return 0
  local scratch
  scratch=$(mktemp -d)
  (cd "$scratch" && npm pack --silent "$1" >/dev/null && tar -xzf ./*.tgz)
  mkdir -p "$(dirname "$3")"
  cp "$scratch/package/$2" "$3"
  rm -rf "$scratch"
}
fetch_npm socket.io-client@4.8 dist/socket.io.min.js agent_ui/static/vendor/socket.io.min.js
fetch_npm chart.js@4.6 dist/chart.umd.min.js agent_ui/static/vendor/chart.umd.min.js
fetch_npm wavesurfer.js@7.12 dist/wavesurfer.min.js agent_ui/static/vendor/wavesurfer.min.js

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
