"""A private PostgreSQL server for tests: its own data directory and free port, removed afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
Usage as a wrapper: python -m storefront_common.testing.postgres -- pytest ...
(the command sees STOREFRONT_TEST_DATABASE_URL).
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
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
    """auth="trust" lets anyone in; auth="scram-sha-256" checks passwords over TCP (trust on the
    local socket only), for tests that must prove credentials and CONNECT privileges.
    extra_settings become `-c name=value` server options (e.g. {"log_statement": "ddl"})."""

    def __init__(self, auth: str = "trust", extra_settings: dict[str, str] | None = None) -> None:
        if auth not in ("trust", "scram-sha-256"):
            raise ValueError(f"auth must be trust or scram-sha-256, not {auth!r}")
        self.bin_dir = _bin_dir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="storefront-pg-"))
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "server.log"
        self.port = free_port()
        self.auth = auth
        self.admin_password = secrets.token_hex(16) if auth == "scram-sha-256" else ""
        self.extra_settings = dict(extra_settings or {})

    @property
    def admin_url(self) -> str:
        credentials = f"postgres:{self.admin_password}" if self.admin_password else "postgres"
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/postgres"

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base_dir, user.pw_uid, user.pw_gid)
        self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                   *self._auth_options(), "-E", "UTF8", "--no-sync"])
        self.start_server()
        return self

    def _auth_options(self) -> list[str]:
        if self.auth == "trust":
            return ["-A", "trust"]
        password_file = self.base_dir / "admin-password"
        password_file.write_text(self.admin_password + "\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(password_file, user.pw_uid, user.pw_gid)
        password_file.chmod(0o600)
        return ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}"]

    def start_server(self) -> None:
        """Start the initialised server (again, after stop_server) on the same port and data."""
        # Durability is irrelevant for a throwaway test server; speed is not.
        options = (f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400")
        options += "".join(f" -c {name}={value}" for name, value in self.extra_settings.items())
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                   "-l", str(self.log_path), "-w", "start"])

    def stop_server(self) -> None:
        """Stop the server but keep its data, so start_server brings the same databases back."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

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
