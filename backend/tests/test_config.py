"""Settings: defaults, URL normalisation, production rules, one-line errors naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from todo_api.core.config import ConfigError, load_settings, normalize_database_url


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
