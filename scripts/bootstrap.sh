#!/usr/bin/env bash
# Installs what this machine lacks for ntpd112: Debian packages (SIPp, debootstrap, baresip, espeak-ng, sox,
# PostgreSQL when no server runs), a running PostgreSQL, the Python venv with the project's dependencies.
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
