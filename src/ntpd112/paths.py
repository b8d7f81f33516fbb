"""Where the project's shipped files live. The package is installed editable (`pip install -e`), so the
configuration directories sit beside src/."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
ASTERISK_DIR = PROJECT_DIR / "asterisk"
DIALPLAN_DIR = PROJECT_DIR / "dialplan"
SIPP_DIR = PROJECT_DIR / "sipp-scenarios"
# The console, built by `npm run build` in webapp/ (scripts/bootstrap.sh) and served by the service at `/`.
WEBAPP_BUILD_DIR = PROJECT_DIR / "webapp" / "dist"
# The local Asterisk on fixed ports, its queue, its CDR target and the test database serve every checkout on a
# machine: integration test sessions, `ntpd112 setup`, `asterisk start|stop` and `loadtest` take turns by an exclusive
# flock on this file (devtools.local_asterisk.local_asterisk_lock).
LOCAL_ASTERISK_LOCK = Path("/tmp/ntpd112-integration.lock")  # noqa: S108  a fixed name is the point
