"""Settings: defaults, URL normalisation, production rules, one-line errors naming the variable."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from todo_api.core.config import ConfigError, load_settings, normalize_database_url
from todo_api.core.security import InvalidToken
from todo_api.main import create_app


def test_defaults_run_with_no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # no .env file here
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./todo.db"
    assert settings.llm_provider == "local" and settings.should_migrate_on_start


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "postgresql://u:p@ep-cool-1.eu-central-1.aws.neon.tech/neondb?sslmode=require",
            "postgresql+asyncpg://u:p@ep-cool-1.eu-central-1.aws.neon.tech/neondb?ssl=require",
        ),
        (
            "postgres://u:p@host:5432/db?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:p@host:5432/db?ssl=require",
        ),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./todo.db", "sqlite+aiosqlite:///./todo.db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ],
)
def test_database_url_normalisation(raw: str, expected: str) -> None:
    assert normalize_database_url(raw) == expected


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://x@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u@/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u@h/db?sslmode=sometimes"}, "DATABASE_URL"),
        ({"APP_ENV": "production"}, "AUTH_SECRET"),
        ({"APP_ENV": "production", "AUTH_SECRET": "short"}, "AUTH_SECRET"),
        ({"LLM_PROVIDER": "skynet"}, "LLM_PROVIDER"),
        ({"DB_POOL_SIZE": "lots"}, "DB_POOL_SIZE"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    monkeypatch.chdir("/")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert str(exc.value).startswith(f"{variable}:")
    assert "\n" not in str(exc.value)


def test_production_accepts_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_SECRET", "a" * 64)
    settings = load_settings()
    assert settings.is_production and not settings.should_migrate_on_start


def test_cli_prints_one_line_and_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "todo_api.cli", "serve"],
        env={"APP_ENV": "production", "PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///x.db"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: AUTH_SECRET:")
    assert "Traceback" not in result.stderr


# The signing key the source used to default to outside production: published, so anyone
# could sign a token for any account with it.
PUBLISHED_DEV_KEY = "dev-insecure-secret-change-me-0123456789abcdef"


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # no .env file here
    for name in ("AUTH_SECRET", "BETTER_AUTH_SECRET", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_generated_secret_is_kept_beside_the_sqlite_file(
    no_secret_env: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "todo.db"
    settings = load_settings(database_url=f"sqlite:///{database}")
    assert not settings.has_auth_secret
    with caplog.at_level(logging.WARNING, logger="todo_api"):
        first = settings.with_auth_secret().auth_secret.get_secret_value()
    key_file = tmp_path / "todo.db.auth_secret"
    assert key_file.read_text().strip() == first and len(first) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "AUTH_SECRET is not set" in caplog.text and first not in caplog.text
    # A restart (a new process, here new settings) signs with the same key.
    again = load_settings(database_url=f"sqlite:///{database}").with_auth_secret()
    assert again.auth_secret.get_secret_value() == first
    assert not list(tmp_path.glob("*.tmp"))


def test_generated_secret_without_a_file_is_per_process(no_secret_env: None) -> None:
    for url in ("postgresql://u:p@db.example/todo", "sqlite://"):
        settings = load_settings(database_url=url)
        assert settings.auth_secret_file is None
        one, two = (settings.with_auth_secret().auth_secret.get_secret_value() for _ in "12")
        assert len(one) == 64 and one != two


def test_published_dev_key_signs_nothing(no_secret_env: None, tmp_path: Path) -> None:
    """No configuration accepts a token signed with a key from the source."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", app_env="development")
    app = create_app(settings)
    forged = jwt.encode(
        {"sub": "1", "iat": time.time(), "exp": int(time.time()) + 600}, PUBLISHED_DEV_KEY
    )
    with pytest.raises(InvalidToken):
        app.state.tokens.claims(forged)
    assert app.state.settings.auth_secret.get_secret_value() != PUBLISHED_DEV_KEY


@pytest.mark.parametrize("name", ["AUTH_SECRET", "BETTER_AUTH_SECRET"])
def test_auth_secret_and_its_alias(
    no_secret_env: None, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv(name, "k" * 40)
    settings = load_settings()
    assert settings.auth_secret.get_secret_value() == "k" * 40
    assert settings.with_auth_secret() is settings


def test_production_requires_the_secret_even_with_a_sqlite_file(
    no_secret_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError) as exc:
        load_settings(database_url=f"sqlite:///{tmp_path / 'prod.db'}")
    assert str(exc.value).startswith("AUTH_SECRET:") and "\n" not in str(exc.value)
    assert not list(tmp_path.iterdir())  # nothing generated


def test_cli_openapi_prints_the_schema_whatever_the_environment() -> None:
    """`todo-api openapi > file` (frontend/lib/openapi.json): only JSON on stdout, the same
    schema in any environment, no database opened."""
    import json

    def schema(env: dict[str, str]) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "todo_api.cli", "openapi"],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            check=True,
        )
        return result.stdout

    plain = schema({})
    assert schema({"APP_ENV": "production", "DATABASE_URL": "postgresql://nowhere/x"}) == plain
    paths = json.loads(plain)["paths"]
    assert {"/api/tasks/parse", "/api/tasks/restore", "/api/tasks/{task_id}/restore"} <= set(paths)
