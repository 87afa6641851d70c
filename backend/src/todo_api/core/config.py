"""Settings from the environment (12-factor). One place, built once per process."""

from __future__ import annotations

import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

MIN_SECRET_LENGTH = 32
# Beside a SQLite file `<file>.auth_secret` keeps the generated signing key across restarts.
SECRET_FILE_SUFFIX = ".auth_secret"  # noqa: S105 - a file name, not a secret

log = logging.getLogger("todo_api")

# libpq's sslmode values and what asyncpg's `ssl` argument accepts for them.
_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
# libpq query parameters asyncpg does not understand; dropped rather than crashing the driver.
_LIBPQ_ONLY_PARAMS = {"channel_binding", "sslrootcert", "sslcert", "sslkey", "connect_timeout"}


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def normalize_database_url(raw: str) -> str:
    """Map the URLs people paste (Neon, Heroku, libpq) onto SQLAlchemy's async drivers.

    postgres://… and postgresql://… become postgresql+asyncpg://…, and libpq's `sslmode` becomes
    asyncpg's `ssl`, so a Neon URL with `?sslmode=require` works as given.
    """
    url = raw.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("PostgreSQL URL needs a host, e.g. postgresql://user:pass@host/db")
        if not parts.path.strip("/"):
            raise ValueError("PostgreSQL URL needs a database name, e.g. .../tododb")
        params = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "sslmode":
                if value not in _SSLMODES:
                    raise ValueError(f"unknown sslmode {value!r}")
                params.append(("ssl", value))
            elif key not in _LIBPQ_ONLY_PARAMS:
                params.append((key, value))
        return urlunsplit(
            ("postgresql+asyncpg", parts.netloc, parts.path, urlencode(params), parts.fragment)
        )
    if scheme in {"sqlite", "sqlite+aiosqlite"}:
        return "sqlite+aiosqlite" + url[len(parts.scheme) :]
    raise ValueError("must start with postgresql:// (or postgres://) or sqlite:///")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    app_env: Literal["development", "production", "test"] = "development"
    # The image's tag (0.1.0-<content digest>, set by the Dockerfile's APP_VERSION build arg):
    # /health reports it, so a person or a test sees which build serves after a rollout/rollback.
    app_version: str = Field(default="dev", max_length=64)
    database_url: str = "sqlite:///./todo.db"
    # Kept open: overflow connections are closed as soon as they are returned to a full pool,
    # so under steady load above the pool size they are opened and closed over and over.
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    # Seconds to wait for the database (connect, pool checkout and statements) before failing fast.
    db_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    migrate_on_start: bool | None = None

    # Signs the access tokens. Empty: generated (see `with_auth_secret`); never a default in
    # the source, whose tokens anyone could sign. BETTER_AUTH_SECRET is accepted as its alias.
    auth_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("AUTH_SECRET", "BETTER_AUTH_SECRET", "auth_secret"),
    )
    access_token_expire_minutes: int = Field(default=60 * 24, ge=1, le=60 * 24 * 30)
    # argon2 hashes (64 MiB, ~0.25 s of CPU each) running at once per process; the rest wait
    # up to PASSWORD_HASH_WAIT_SECONDS, then 503 with Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    password_hash_wait_seconds: float = Field(default=5.0, gt=0, le=120)
    login_rate_limit: str = "10/minute"
    chat_rate_limit: str = "30/minute"

    cors_origins: str = "http://localhost:3000"
    frontend_url: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Tasks one account may hold (adding more is a 409), so one user cannot grow the database
    # without limit.
    max_tasks_per_user: int = Field(default=5000, ge=1, le=10_000_000)

    llm_provider: Literal["local", "groq", "openai", "openai-compatible"] = "local"
    llm_model: str = ""
    llm_base_url: str = ""
    llm_api_key: SecretStr | None = None
    groq_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_max_steps: int = Field(default=6, ge=1, le=20)
    chat_max_message_chars: int = Field(default=2000, ge=1, le=20000)
    chat_history_messages: int = Field(default=20, ge=0, le=200)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _normalize_db(cls, value: str) -> str:
        return normalize_database_url(value)

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.is_production:
            if len(self.auth_secret.get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"AUTH_SECRET: must be set to a random string of at least "
                    f"{MIN_SECRET_LENGTH} characters in production (openssl rand -hex 32)"
                )
        return self

    @model_validator(mode="after")
    def _llm_rules(self) -> Settings:
        # A remote provider without its key would only fail at the first chat message: fail now.
        def given(secret: SecretStr | None) -> bool:
            return secret is not None and bool(secret.get_secret_value().strip())

        has = {
            "llm": given(self.llm_api_key),
            "groq": given(self.groq_api_key),
            "openai": given(self.openai_api_key),
        }
        if self.llm_provider == "groq" and not (has["llm"] or has["groq"]):
            raise ValueError("GROQ_API_KEY: required when LLM_PROVIDER=groq (or set LLM_API_KEY)")
        if self.llm_provider == "openai" and not (has["llm"] or has["openai"]):
            raise ValueError(
                "OPENAI_API_KEY: required when LLM_PROVIDER=openai (or set LLM_API_KEY)"
            )
        if self.llm_provider == "openai-compatible" and not self.llm_base_url.strip():
            raise ValueError(
                "LLM_BASE_URL: required when LLM_PROVIDER=openai-compatible "
                "(e.g. http://localhost:11434/v1 for Ollama)"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def has_auth_secret(self) -> bool:
        return bool(self.auth_secret.get_secret_value())

    @property
    def auth_secret_file(self) -> Path | None:
        """Where a generated signing key is kept: beside a SQLite file, else nowhere."""
        if not self.is_sqlite:
            return None
        database = make_url(self.database_url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database + SECRET_FILE_SUFFIX)

    def with_auth_secret(self) -> Settings:
        """These settings with a signing key: AUTH_SECRET, or else a random one (kept beside
        a SQLite file so restarts keep their sessions; otherwise for this process only), with
        a warning. Production never gets here without AUTH_SECRET (`_production_rules`)."""
        if self.has_auth_secret:
            return self
        path = self.auth_secret_file
        key = None
        if path is not None:
            try:
                key = _persisted_secret(path)
            except OSError as exc:
                log.warning("AUTH_SECRET: cannot keep a generated key in %s (%s)", path, exc)
        if key is not None:
            log.warning(
                "AUTH_SECRET is not set: tokens are signed with a random key kept in %s "
                "(set AUTH_SECRET, or BETTER_AUTH_SECRET, to choose it)",
                path,
            )
        else:
            key = secrets.token_hex(32)
            log.warning(
                "AUTH_SECRET is not set: tokens are signed with a random key for this process "
                "only; they end at restart and other replicas refuse them (set AUTH_SECRET)"
            )
        return self.model_copy(update={"auth_secret": SecretStr(key)})

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_migrate_on_start(self) -> bool:
        """Development runs migrations at start so `make run` needs no extra step."""
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return not self.is_production

    @property
    def allowed_origins(self) -> list[str]:
        origins = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        if self.frontend_url:
            origins.append(self.frontend_url.strip().rstrip("/"))
        return sorted(set(origins))


def _persisted_secret(path: Path) -> str:
    """The key in `path`, created (mode 0600) with a random one if missing. Written to a
    private temporary file and linked into place, so processes starting together all read the
    one complete key that won."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process was first: use its key
        finally:
            temporary.unlink(missing_ok=True)
        key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise OSError(f"it holds no usable key (fewer than {MIN_SECRET_LENGTH} characters)")
    return key


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one line that names the variable."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(part) for part in err.get("loc", ()) if part]
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if loc:
            name = loc[0].upper()
            raise ConfigError(f"{name}: {msg}") from None
        # model-level errors already start with the variable name
        raise ConfigError(msg) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
