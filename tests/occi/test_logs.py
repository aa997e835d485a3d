"""occi.logs: request-id sanitising, the JSON and text formatters, and configure()."""
from __future__ import annotations

import contextvars
import io
import json
import logging
import os
import sys
import uuid
from datetime import datetime

import pytest

from occi import logs


# -- request ids -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["a", "0123456789abcdef0123456789abcdef", "trace-1.2_X", "x" * 64, "..", "-"])
def test_sane_request_ids_are_kept(value):
    assert logs.sane_request_id(value) == value


@pytest.mark.parametrize("value", [None, "", "x" * 65, "has space", "semi;colon", 'quo"te', "new\nline", "crlf\r\n",
                                   "tab\t", "é", "a/b", "a=b", "${jndi:ldap://x}", "\u2028"])
def test_other_request_ids_are_refused(value):
    assert logs.sane_request_id(value) is None


def test_new_request_ids_are_uuid4_hex_and_sane():
    ids = {logs.new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for rid in ids:
        parsed = uuid.UUID(rid)
        assert parsed.hex == rid and parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert logs.sane_request_id(rid) == rid


def test_forked_processes_make_other_request_ids():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child: like a gunicorn worker
        os.write(write, logs.new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert len(child) == 32 and child != logs.new_request_id()


# -- the JSON formatter ------------------------------------------------------------------------
def _record(message="hello %s", args=("world",), level=logging.INFO, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("occi.test", level, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_the_standard_fields():
    line = logs.JsonFormatter(component="sla").format(_record())
    assert "\n" not in line
    out = json.loads(line)
    assert out["level"] == "INFO" and out["logger"] == "occi.test" and out["message"] == "hello world"
    assert out["component"] == "sla" and isinstance(out["pid"], int)
    assert out["ts"].endswith("Z")
    assert datetime.fromisoformat(out["ts"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    for absent in ("request_id", "method", "path", "status", "duration_ms", "traceback"):
        assert absent not in out          # only what is known


def test_json_lines_carry_request_fields_given_with_extra():
    record = _record(request_id="r-1", method="GET", path="/compute/1", status=404, duration_ms=1.25,
                     component="monitors")
    out = json.loads(logs.JsonFormatter(component="sla").format(record))
    assert out["request_id"] == "r-1" and out["method"] == "GET" and out["path"] == "/compute/1"
    assert out["status"] == 404 and out["duration_ms"] == 1.25
    assert out["component"] == "monitors"       # the record's own wins over the formatter's


def test_json_lines_take_the_request_id_of_the_request_being_served():
    def inside():
        logs.request_id.set("served-7")
        return json.loads(logs.JsonFormatter().format(_record()))
    assert contextvars.copy_context().run(inside)["request_id"] == "served-7"
    assert "request_id" not in json.loads(logs.JsonFormatter().format(_record()))


def test_exceptions_become_a_traceback_string():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", (), level=logging.ERROR, exc_info=sys.exc_info())
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    out = json.loads(line)
    assert out["level"] == "ERROR" and out["message"] == "failed"
    assert out["traceback"].startswith("Traceback") and "ValueError: boom" in out["traceback"]


def test_one_object_per_line_whatever_the_message_holds():
    nasty = 'two\nlines\r\u2028\u2029\x85 "quoted" \\ é'
    line = logs.JsonFormatter().format(_record("%s", (nasty,)))
    assert len(line.splitlines()) == 1 and line.isascii()
    assert json.loads(line)["message"] == nasty


def test_text_lines_end_with_the_request_id():
    line = logs.TextFormatter().format(_record(request_id="r-9"))
    assert "[INFO] occi.test: hello world" in line and line.endswith("[request r-9]")
    assert "request" not in logs.TextFormatter().format(_record())


def test_unknown_log_formats_are_refused():
    with pytest.raises(ValueError, match="text' or 'json"):
        logs.formatter("xml")


# -- configure --------------------------------------------------------------------------------
@pytest.fixture
def logging_state():
    """configure() changes process-wide logging: put it back afterwards."""
    root, access = logging.getLogger(), logging.getLogger(logs.ACCESS_LOGGER)
    saved = (list(root.handlers), root.level, list(access.handlers), access.level, access.propagate)
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    access.handlers[:], access.level, access.propagate = saved[2], saved[3], saved[4]


def test_configure_sends_logs_to_stderr_and_the_access_log_to_stdout(logging_state, monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    logs.configure(log_format="json", component="sla", access_log=True)
    logs.configure(log_format="json", component="sla", access_log=True)      # again: replaces, no duplicates
    logging.getLogger("occi.test").warning("careful")
    logging.getLogger("occi.test").info("not shown at WARNING")
    logging.getLogger(logs.ACCESS_LOGGER).info("GET /", extra={"method": "GET", "path": "/", "status": 200})
    errors = [json.loads(line) for line in err.getvalue().splitlines()]
    access = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["message"] for e in errors] == ["careful"] and errors[0]["component"] == "sla"
    assert len(access) == 1 and access[0]["logger"] == logs.ACCESS_LOGGER and access[0]["status"] == 200


def test_without_access_log_the_access_logger_stays_quiet(logging_state, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    logs.configure(log_format="text", access_log=False)
    assert not logging.getLogger(logs.ACCESS_LOGGER).isEnabledFor(logging.INFO)
