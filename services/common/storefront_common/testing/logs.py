"""What a service logs, as its operator reads it: lines written by the service's own handler."""
from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ..logging_setup import log_handler


@contextmanager
def captured_log(logger_name: str, service: str, fmt: str = "text") -> Iterator[io.StringIO]:
    """The lines `logger_name` writes during the block, formatted as LOG_FORMAT=`fmt` writes them (with the
    request id of the request each belongs to)."""
    stream = io.StringIO()
    handler = log_handler(service, fmt, stream)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
