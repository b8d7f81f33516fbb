"""Settings: one validated object, read from the environment (prefix NTPD112_) and `.env`.

Validation happens before the event loop starts; a bad or missing setting stops start-up with one line that
names the setting (see `load_settings`). Secrets are `SecretStr` so they never print in logs or reprs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NTPD112_"
DEFAULT_STATE_DIR = Path.home() / ".cache" / "ntpd112"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it and is safe to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: SecretStr = Field(
        description="SQLAlchemy URL, postgresql+asyncpg://user:password@host:port/db (holds a password)"
    )

    # Where Asterisk's cdr_pgsql writes its call records (table asterisk_cdr); reconciliation reads them to find
    # calls the service missed. Empty: the service's own database.
    cdr_database_url: SecretStr | None = None
    reconcile_interval: float = Field(60.0, ge=5, le=3600, description="seconds between reconciliation runs")
    reconcile_lookback_hours: float = Field(24.0, gt=0, le=24 * 31)
    # Asterisk's queue log file (logger.conf queue_log), read by reconciliation for who answered a call the service
    # did not follow, the wait and abandons. Unset: reconciliation uses the CDRs alone.
    queue_log_path: Path | None = None

    ari_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8088/ari")
    ari_username: str = "ntpd112"
    ari_password: SecretStr
    ari_app: str = Field("ntpd112", pattern=r"^[A-Za-z0-9_-]{1,64}$")

    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_username: str = "ntpd112"
    ami_password: SecretStr

    http_host: str = "127.0.0.1"
    http_port: int = Field(8112, ge=1, le=65535)
    # TLS for the HTTP API (PEM files): both or neither. Without them the API is plain HTTP, for loopback or a
    # TLS-terminating proxy on the same host only.
    http_tls_cert_file: Path | None = None
    http_tls_key_file: Path | None = None
    # Seconds a client has to send a complete request head (headers) and, separately, its body.
    http_header_timeout: float = Field(10.0, gt=0, le=300)
    http_body_timeout: float = Field(10.0, gt=0, le=300)
    http_max_header_bytes: int = Field(8190, ge=1024, le=65536, description="longest request line or header")
    http_max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Loopback clients see health details and all metrics (false behind a reverse proxy on the same host).
    http_loopback_details: bool = True

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    spool_dir: Path = Field(DEFAULT_STATE_DIR / "spool", description="where records wait while the DB is down")
    journal_max_in_memory: int = Field(10_000, ge=100)
    # Asterisk's configuration directory, where the fail-safe routes include is written (None: not written, for
    # example when the service runs on another host than Asterisk).
    asterisk_config_dir: Path | None = None
    # Asterisk's monitor spool, where MixMonitor writes the calls' recordings (a call row names its file relative to
    # it). None: the service serves no recordings (Asterisk on another host without a shared spool).
    recordings_dir: Path | None = None
    # Shared secret of AML senders (HMAC-SHA256, see intake/aml.py and web/aml_routes.py). Unset: the AML endpoints
    # answer 503 aml_disabled.
    aml_hmac_secret: SecretStr | None = None

    # Browser sessions end after this long without a request, and this long after sign-in whatever happens.
    session_idle_minutes: float = Field(30.0, gt=0, le=24 * 60)
    session_absolute_hours: float = Field(12.0, gt=0, le=7 * 24)
    # The origin browsers use to reach the service (scheme://host[:port]), which state-changing cookie requests
    # must carry in Origin. Unset: the origin the request itself was addressed to (its Host header).
    public_origin: str | None = Field(None, pattern=r"^https?://[A-Za-z0-9.\[\]:-]+$")
    # Seconds between the console stream's checks that its session or token has not ended (revoked, expired).
    stream_liveness_seconds: float = Field(30.0, gt=0, le=300)

    # The console's optional map tiles, drawn under the imported boundaries. Default: none, and the browser fetches
    # nothing from elsewhere. A URL template (http or https, with {z}, {x} and {y}: the operators' browsers fetch
    # tiles from it, so its host is added to the page's Content-Security-Policy), and/or a directory of tiles laid
    # out z/x/y.png that the service serves to signed-in users at /api/tiles/{z}/{x}/{y}.png (works offline).
    map_tile_url: str | None = None
    map_tile_dir: Path | None = None

    # Seconds the service waits for a REST answer from ARI before giving up on that request.
    ari_request_timeout: float = Field(5.0, gt=0, le=60)
    # Reconnect backoff: first delay and cap, in seconds.
    reconnect_initial_delay: float = Field(0.5, gt=0, le=10)
    reconnect_max_delay: float = Field(10.0, gt=0, le=300)

    # Agency webhooks (dispatch/webhooks.py): seconds one attempt may take, attempts before a delivery is given up,
    # and the retry backoff's first delay and cap in seconds.
    webhook_timeout: float = Field(10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(10, ge=1, le=100)
    webhook_retry_initial_delay: float = Field(10.0, gt=0, le=3600)
    webhook_retry_max_delay: float = Field(1800.0, gt=0, le=24 * 3600)
    # The room's identifier in the EIDO documents it issues (tickets/eido.py): a domain name of the Pemda's.
    eido_domain: str = Field(
        "ntpd112.invalid", pattern=r"^[a-z0-9]([a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}$", max_length=200
    )
    # Phone notifications of tickets (dispatch/phone_calls.py, docs/TICKETS.md): the directory Asterisk plays
    # `ntpd112/...` sounds from, as this host sees it (the messages are spoken into its tickets/ subdirectory; None:
    # no phone notifications), seconds the duty phone rings, seconds for the key after each playing of the message,
    # attempts, and the retry backoff's first delay and cap in seconds.
    asterisk_sounds_dir: Path | None = None
    ticket_call_ring_seconds: int = Field(30, ge=5, le=120)
    ticket_call_key_seconds: int = Field(5, ge=2, le=30)
    ticket_call_max_attempts: int = Field(5, ge=1, le=20)
    ticket_call_retry_initial_delay: float = Field(60.0, gt=0, le=3600)
    ticket_call_retry_max_delay: float = Field(600.0, gt=0, le=24 * 3600)
    # Seconds between the checks for tickets past their time limits (dispatch/escalation.py).
    ticket_check_interval: float = Field(30.0, ge=0.2, le=600)
    # Photos attached to tickets (store/attachments.py): stored as files in this directory (created at start-up,
    # owner-only), named by their SHA-256; the largest photo accepted, photos per ticket, and the seconds an upload
    # may take (a phone on a weak mobile connection is slow; the usual body timeout is for small JSON bodies).
    ticket_attachments_dir: Path = DEFAULT_STATE_DIR / "attachments"
    ticket_max_photo_bytes: int = Field(10 * 1024 * 1024, ge=64 * 1024, le=50 * 1024 * 1024)
    ticket_max_photos: int = Field(20, ge=1, le=200)
    ticket_photo_upload_timeout: float = Field(120.0, gt=0, le=900)

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("postgresql+asyncpg://"):
            raise ValueError("must start with postgresql+asyncpg://")
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url_template(cls, value: str | None) -> str | None:
        return None if value is None else tile_url_template(value)

    @field_validator("map_tile_dir")
    @classmethod
    def _tile_directory(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return None if value is None else value.resolve()

    @model_validator(mode="after")
    def _tls_files_together(self) -> Settings:
        if (self.http_tls_cert_file is None) != (self.http_tls_key_file is None):
            raise ValueError("http_tls_cert_file and http_tls_key_file go together")
        return self

    @model_validator(mode="after")
    def _webhook_backoff_grows(self) -> Settings:
        if self.webhook_retry_max_delay < self.webhook_retry_initial_delay:
            raise ValueError("webhook_retry_max_delay is shorter than webhook_retry_initial_delay")
        return self

    @model_validator(mode="after")
    def _ticket_call_backoff_grows(self) -> Settings:
        if self.ticket_call_retry_max_delay < self.ticket_call_retry_initial_delay:
            raise ValueError("ticket_call_retry_max_delay is shorter than ticket_call_retry_initial_delay")
        return self

    @property
    def ari_base_url(self) -> str:
        return str(self.ari_url).rstrip("/")


TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")


def tile_url_template(value: str) -> str:
    """A tile URL template the console may hand to Leaflet: http(s), a fixed host (the Content-Security-Policy
    names it), and {z}, {x} and {y} in the path or query, nothing else in braces."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if any(char in parts.netloc for char in "{}@") or any(char.isspace() for char in value):
        raise ValueError("the host must be fixed (no placeholder, no user, no spaces)")
    missing = [placeholder for placeholder in TILE_PLACEHOLDERS if placeholder not in value]
    if missing:
        raise ValueError(f"must contain {', '.join(TILE_PLACEHOLDERS)} (missing {', '.join(missing)})")
    rest = value
    for placeholder in TILE_PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        raise ValueError("only {z}, {x} and {y} may appear in braces")
    return value


def url_origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class LocalAsteriskSettings(BaseSettings):
    """Settings of the development/test Asterisk that the project provisions itself (`ntpd112 asterisk`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore")

    asterisk_root: Path = DEFAULT_STATE_DIR / "asterisk-root"
    debian_mirror: str = ""  # empty: read from this machine's apt sources
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(5060, ge=1, le=65535)
    ami_port: int = Field(5038, ge=1, le=65535)
    http_port: int = Field(8088, ge=1, le=65535)
    ari_username: str = "ntpd112"
    ari_password: SecretStr | None = None
    ami_username: str = "ntpd112"
    ami_password: SecretStr | None = None
    # The database the local Asterisk's cdr_pgsql writes to (`ntpd112 setup` points it at the development one).
    cdr_database_url: SecretStr | None = None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ENV_PREFIX + "_".join(str(part) for part in first["loc"]).upper()
    problem = "is missing" if first["type"] == "missing" else f"is invalid: {first['msg']}"
    return f"setting {name} {problem}"


def load_settings() -> Settings:
    try:
        return Settings()  # values come from the environment
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def load_local_asterisk_settings() -> LocalAsteriskSettings:
    try:
        return LocalAsteriskSettings()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
