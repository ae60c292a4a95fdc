"""The local platform: five services under their HTTP server, the Paystack simulator and the gateway."""
from __future__ import annotations

import logging
import sys
import threading

from .config import LocalConfig, LocalSecrets, service_environment
from .gateway import SIMULATOR_PREFIX, format_pairs
from .processes import Child, stop_all
from .routes import PUBLIC_ROUTES, SERVICES, TOPOLOGY

logger = logging.getLogger("storefront.runner")
PYTHON = sys.executable
# The chart's CronJobs, each run once per job interval.
PERIODIC_JOBS = tuple((component.name, command) for component in TOPOLOGY.components for command in component.cron_jobs)


def server_command(app_spec: str, *options: str) -> list[str]:
    return [PYTHON, "-m", "storefront_common.serve", app_spec, *options]


def flask_command(service: str, *args: str) -> list[str]:
    return [PYTHON, "-m", "flask", "--app", f"storefront_{service}.wsgi", *args]


class LocalPlatform:
    def __init__(self, config: LocalConfig, base_env: dict[str, str]) -> None:
        self.config = config
        self.base_env = base_env
        self.children: list[Child] = []
        self.secrets: LocalSecrets | None = None
        self._stop_jobs = threading.Event()

    def service_env(self, name: str) -> dict[str, str]:
        assert self.secrets is not None
        return {**self.base_env, **service_environment(name, self.config, self.secrets)}

    def start(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.assign_ports()
        self.secrets = LocalSecrets.load_or_create(self.config.data_dir)
        try:
            self._start_children()
        except BaseException:
            self.stop()
            raise

    def _migrate(self) -> None:
        """Migrate once before any worker starts, as the chart's hook Job does; workers never race for it."""
        jobs = [Child(f"{name}-migrate", flask_command(name, "migrate"), self.service_env(name)) for name in SERVICES]
        for job in jobs:
            job.start()
        failed = [job.name for job in jobs if job.process is None or job.process.wait() != 0]
        if failed:
            raise RuntimeError(f"migrations failed: {', '.join(failed)}")

    def _start_children(self) -> None:
        self._migrate()
        services = [Child(name, server_command(f"storefront_{name}.wsgi:app"), self.service_env(name),
                          f"{self.config.service_url(name)}/readyz") for name in SERVICES]
        for child in [*services, self._simulator(), self._gateway()]:
            self.children.append(child)
            child.start()
        for child in self.children:
            child.wait_healthy()

    def _simulator(self) -> Child:
        assert self.secrets is not None
        port = self.config.simulator_port
        command = [PYTHON, "-m", "storefront_dev.paystack_sim", "--port", str(port),
                   "--secret-key", self.secrets.paystack_secret_key,
                   "--webhook-url", f"{self.config.service_url('payments')}/api/v1/payments/paystack/webhook",
                   "--public-url", f"{self.config.public_url}{SIMULATOR_PREFIX}"]
        return Child("paystack", command, dict(self.base_env), f"http://127.0.0.1:{port}/_simulator/transactions")

    def _gateway(self) -> Child:
        backends = {name: self.config.service_url(name) for name in SERVICES}
        backends["paystack"] = f"http://127.0.0.1:{self.config.simulator_port}"
        env = {**self.base_env, "SERVICE_NAME": "gateway", "LOG_FORMAT": self.base_env.get("LOG_FORMAT", "text"),
               "HOST": "127.0.0.1", "PORT": str(self.config.port),
               "WEB_CONCURRENCY": str(max(self.config.workers, 2)), "WEB_THREADS": "16",
               "GATEWAY_BACKENDS": format_pairs(backends.items()), "GATEWAY_ROUTES": format_pairs(PUBLIC_ROUTES)}
        return Child("gateway", server_command("storefront_dev.runner.gateway:create_gateway", "--factory"), env,
                     f"{self.config.public_url}/healthz")

    def run_job(self, service: str, *args: str) -> int:
        job = Child(f"{service}-job", flask_command(service, *args), self.service_env(service))
        job.start()
        assert job.process is not None
        return job.process.wait()

    def start_periodic_jobs(self) -> None:
        def loop() -> None:
            while not self._stop_jobs.wait(self.config.job_interval_seconds):
                for service, command in PERIODIC_JOBS:
                    self.run_job(service, command)

        threading.Thread(target=loop, daemon=True, name="periodic-jobs").start()

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def stop_service(self, name: str) -> None:
        """Stop one service (tests use it to take a dependency down mid-journey)."""
        stopped = self.child(name)
        stopped.terminate()
        stopped.wait_or_kill(15)

    def start_service(self, name: str) -> None:
        old = self.child(name)
        restarted = Child(old.name, old.command, old.env, old.health_url)
        self.children[self.children.index(old)] = restarted
        restarted.start()
        restarted.wait_healthy()

    def failed_child(self) -> Child | None:
        return next((child for child in self.children if child.exited), None)

    def stop(self) -> None:
        self._stop_jobs.set()
        stop_all(self.children)
        self.children.clear()

    def __enter__(self) -> "LocalPlatform":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
