"""`todo-api` command: serve the API, run migrations, check configuration."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from todo_api.core.config import ConfigError, Settings, load_settings
from todo_api.core.logging import configure_logging

log = logging.getLogger("todo_api")


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        # One line naming the variable; no traceback wall in `kubectl logs`.
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _migrate(settings: Settings) -> None:
    from todo_api.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:
        print(f"migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    if not settings.has_auth_secret:
        # One key for every worker process (they build their own settings from the environment).
        os.environ["AUTH_SECRET"] = settings.with_auth_secret().auth_secret.get_secret_value()
    if settings.should_migrate_on_start:
        log.info("applying migrations before start (MIGRATE_ON_START)")
        _migrate(settings)
    uvicorn.run(
        "todo_api.main:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # SIGTERM: stop accepting, let in-flight requests finish (Kubernetes grace period is 30 s).
        timeout_graceful_shutdown=args.graceful_timeout,
        timeout_keep_alive=5,
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    if args.check:
        _check_schema(settings)
        return
    _migrate(settings)
    log.info("database schema is up to date")


def _check_schema(settings: Settings) -> None:
    """Exit 0 when the schema is at head, 3 when migrations are pending, 1 when unreachable.

    Used by the backend's init container so new pods wait for the migration Job.
    """
    from todo_api.migrate import current_and_head

    try:
        current, head = current_and_head(settings.database_url)
    except Exception as exc:
        print(f"database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if current != head:
        print(
            f"migrations pending: database at {sorted(current)}, code expects {sorted(head)}",
            file=sys.stderr,
        )
        raise SystemExit(3)
    print(f"database schema at head {sorted(head)}")


def cmd_check_config(_: argparse.Namespace) -> None:
    settings = _settings_or_exit()
    print(f"configuration ok (env={settings.app_env}, llm={settings.llm_provider})")


def cmd_openapi(args: argparse.Namespace) -> None:
    """The API's OpenAPI schema as JSON: what frontend/lib/api-types.ts is generated from."""
    import json

    from todo_api.main import create_app

    # The schema does not depend on the environment: development settings (no secret needed),
    # no database opened.
    logging.disable(logging.CRITICAL)
    settings = Settings(app_env="development", database_url="sqlite:///:memory:")
    schema = create_app(settings).openapi()
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8001")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    serve.add_argument("--graceful-timeout", type=int, default=20)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.add_argument(
        "--check",
        action="store_true",
        help="only check: exit 0 at head, 3 when migrations are pending, 1 when unreachable",
    )
    migrate.set_defaults(func=cmd_migrate)

    check = sub.add_parser("check-config", help="validate the environment and exit")
    check.set_defaults(func=cmd_check_config)

    openapi = sub.add_parser("openapi", help="print the OpenAPI schema (JSON)")
    openapi.add_argument("-o", "--output", help="write it to this file instead")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
