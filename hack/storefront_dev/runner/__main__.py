"""python -m storefront_dev.runner: start the platform, print the URL, stop everything on Ctrl-C or SIGTERM."""
from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

from .config import DEMO_VENDOR_EMAIL, DEMO_VENDOR_PASSWORD, LocalConfig
from .platform import LocalPlatform
from .seed import seed_demo_catalog


class Stop(Exception):
    pass


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _banner(config: LocalConfig) -> str:
    lines = [
        "",
        f"Storefront is running at {config.public_url}",
        f"  API:            {config.public_url}/api/v1/products",
        f"  Paystack (sim): {config.public_url}/_paystack/_simulator/transactions",
        f"  admin:          {config.admin_email} / {config.admin_password}   (local defaults; "
        "set STOREFRONT_ADMIN_EMAIL / STOREFRONT_ADMIN_PASSWORD)",
    ]
    if config.seed_demo:
        lines.append(f"  demo vendor:    {DEMO_VENDOR_EMAIL} / {DEMO_VENDOR_PASSWORD}")
    lines += [f"  data:           {config.data_dir}", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


def main() -> int:
    config = LocalConfig.from_environment()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    platform = LocalPlatform(config, dict(os.environ))
    try:
        platform.start()
        if config.seed_demo:
            seed_demo_catalog(platform)
        platform.start_periodic_jobs()
        print(_banner(config), flush=True)
        while (failed := platform.failed_child()) is None:
            time.sleep(0.5)
        print(f"{failed.name} stopped unexpectedly; stopping the platform.", file=sys.stderr)
        return 1
    except Stop:
        print("\nStopping Storefront...", flush=True)
        return 0
    except RuntimeError as error:
        print(f"Storefront failed to start: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        platform.stop()


if __name__ == "__main__":
    sys.exit(main())
