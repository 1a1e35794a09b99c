"""No build ends in a traceback: an unforeseen error is one short coded problem (E001)."""
from __future__ import annotations

import pytest
from invoke.exceptions import Exit

import tasks
from press.problems import unexpected


def test_an_unexpected_error_is_one_short_coded_problem(capsys, monkeypatch):
    monkeypatch.delenv("PRESS_TRACEBACK", raising=False)

    def step():
        raise ValueError("Double hyphen within comment\n" + "<p>chapter text</p>\n" * 5000)

    with pytest.raises(Exit) as stopped:
        tasks._run(step)
    said = capsys.readouterr().err
    assert stopped.value.code == 1
    assert "E001 unexpected error: ValueError: Double hyphen within comment" in said
    assert "Traceback" not in said and "chapter text" not in said
    assert len(said) < 400


def test_a_long_first_line_is_cut_and_the_traceback_can_be_asked_for(monkeypatch):
    problem = unexpected(RuntimeError("x" * 1000))
    assert problem.code == "E001" and len(problem.message) < 220 and problem.hint
    monkeypatch.setenv("PRESS_TRACEBACK", "1")
    with pytest.raises(KeyError):
        tasks._run(lambda: {}["missing"])
