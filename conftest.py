"""Fixtures shared by every suite: a throwaway PostgreSQL server for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testsupport.pg import PostgresServer, find_pg_bin
from testsupport.tools import require


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    require(bin_dir is not None, "PostgreSQL (initdb/pg_ctl) is not installed")
    assert bin_dir is not None
    with PostgresServer(bin_dir) as server:
        yield server
