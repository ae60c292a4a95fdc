"""A private PostgreSQL server for tests: its own data directory and free port, removed afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
Usage as a wrapper: python -m storefront_common.testing.postgres -- pytest ...
(the command sees STOREFRONT_TEST_DATABASE_URL).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .servers import free_port

ENV_VAR = "STOREFRONT_TEST_DATABASE_URL"


def _bin_dir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found (install the postgresql package)")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class PostgresServer:
    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="storefront-pg-"))
        self.data_dir = self.base_dir / "data"
        self.port = free_port()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base_dir, user.pw_uid, user.pw_gid)
        self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--no-sync"])
        # Durability is irrelevant for a throwaway test server; speed is not.
        options = (f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400")
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                   "-l", str(self.base_dir / "server.log"), "-w", "start"])
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(_as_server_user(command), capture_output=True, text=True, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print("usage: python -m storefront_common.testing.postgres -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with PostgresServer() as server:
        print(f"private PostgreSQL on 127.0.0.1:{server.port}", file=sys.stderr)
        return subprocess.call(command, env={**os.environ, ENV_VAR: server.admin_url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
