#!/usr/bin/env bash
# Installs what this machine lacks for ntpd112: Debian packages (SIPp, debootstrap, baresip, espeak-ng, sox, chromium,
# PostgreSQL when no server runs), a running PostgreSQL, the Python venv with the project's dependencies, the web
# console built into webapp/dist.
# Idempotent and quick the second time. The local Asterisk, databases and migrations follow in `ntpd112 setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=()
command -v sipp >/dev/null || packages+=(sip-tester)
command -v debootstrap >/dev/null || packages+=(debootstrap)
command -v baresip >/dev/null || packages+=(baresip-core)
command -v espeak-ng >/dev/null || packages+=(espeak-ng)
command -v sox >/dev/null || packages+=(sox)
command -v chromium >/dev/null || packages+=(chromium)  # the browser tests (tests/browser, Playwright)
command -v pg_isready >/dev/null || packages+=(postgresql)
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  packages+=(postgresql)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "bootstrap: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q "${packages[@]}" >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${packages[@]}" >/dev/null; }
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "bootstrap: starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  pg_isready -h 127.0.0.1 -p 5432
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python dependencies"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The web console: npm ci when the lock changed, a build when anything in webapp/ changed. The build's stamp lives in
# webapp/dist, which Vite empties on every build, so a failed build leaves no stamp and is tried again.
command -v npm >/dev/null || { echo "bootstrap: the console needs Node.js 20 and npm (node --version)"; exit 1; }
modules_stamp="webapp/node_modules/.installed-$(sha256sum webapp/package-lock.json | cut -c1-16)"
if [ ! -f "$modules_stamp" ]; then
  echo "bootstrap: installing the console's packages (npm ci)"
  (cd webapp && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$modules_stamp"
fi
webapp_sources=$(cd webapp && find . \( -path ./node_modules -o -path ./dist \) -prune -o -type f ! -name schema.d.ts -print | LC_ALL=C sort)
build_stamp="webapp/dist/.built-$(cd webapp && echo "$webapp_sources" | xargs sha256sum | sha256sum | cut -c1-16)"
if [ ! -f "$build_stamp" ]; then
  echo "bootstrap: building the console"
  (cd webapp && npm run --silent build >/dev/null)
  touch "$build_stamp"
fi
