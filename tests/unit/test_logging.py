"""Logging: one format for our events and for the libraries that log through the standard library."""

from __future__ import annotations

import io
import json
import logging

import structlog

from config.logging import configure_logging


def test_library_log_records_are_written_as_the_same_json_lines_as_our_events():
    stream = io.StringIO()
    root_before = list(logging.getLogger().handlers)
    try:
        configure_logging(fmt="json", level="INFO", stream=stream)
        configure_logging(fmt="json", level="INFO", stream=stream)  # configuring again does not double lines
        structlog.get_logger("lifecycle.engine").info("transition_fired", rule_id="R5.1")
        logging.getLogger("dramatiq.worker.Worker").info("Worker is ready")
        logging.getLogger("dramatiq.broker").debug("below the level: not written")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for handler in [h for h in logging.getLogger().handlers if h not in root_before]:
            logging.getLogger().removeHandler(handler)
    assert [(x["event"], x["level"]) for x in lines] == [("transition_fired", "info"), ("Worker is ready", "info")]
    assert lines[1]["logger"] == "dramatiq.worker.Worker"
    assert all("timestamp" in x for x in lines)
