#!/usr/bin/env bash
# Installs what this machine lacks for ntpd112: Debian packages (SIPp, debootstrap, baresip, espeak-ng, sox, chromium, fonts,
# PostgreSQL when no server runs), a running PostgreSQL, the Python venv with the locked dependencies (uv.lock), the
# web console built into webapp/dist.
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
command -v chromium >/dev/null || packages+=(chromium)  # the browser tests (tests/integration/browser, Playwright)
# The report PDF's Unicode font (src/ntpd112/reports/pdf.py): names outside Latin-1.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || packages+=(fonts-dejavu-core)
command -v pg_isready >/dev/null || packages+=(postgresql)
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  packages+=(postgresql)
fi
# apt prints "debconf: delaying package configuration, since apt-utils is not installed" on a machine without
# apt-utils (a container): a notice, not a problem, and the one line of a clean setup that was not the project's.
# Every other line apt writes to stderr still shows.
apt_install() {
  $SUDO apt-get install -y -q "$@" >/dev/null 2> >(grep -v '^debconf: delaying package configuration' >&2)
}
if [ ${#packages[@]} -gt 0 ]; then
  echo "bootstrap: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install "${packages[@]}" || { $SUDO apt-get update -q >/dev/null && apt_install "${packages[@]}"; }
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
# The venv holds exactly the versions in uv.lock (the project editable on top), installed by the uv that uv.lock pins.
stamp=".venv/.installed-$(cat pyproject.toml uv.lock scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python dependencies (uv.lock)"
  uv_version=$(.venv/bin/python -c 'import tomllib; print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')
  if [ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $uv_version" ]; then
    # --isolated: pip skips the user's pip configuration, whose extra indexes warn for every project they lack;
    # uv reads no pip configuration at all (a mirror is set with UV_DEFAULT_INDEX).
    .venv/bin/pip install --isolated --disable-pip-version-check -q "uv==$uv_version"
  fi
  # --locked: refuse a uv.lock that no longer matches pyproject.toml (`make lock` updates it). Copies, not hard
  # links: uv's cache and the checkout may be on different file systems, and uv would warn about the fallback.
  # --compile-bytecode: the dependencies' .pyc written once here; where PYTHONDONTWRITEBYTECODE is set, every
  # interpreter (each test session, service process, worker) otherwise compiles them afresh, 2-3 s a start.
  UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never .venv/bin/uv sync --quiet --locked --extra dev --compile-bytecode
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
