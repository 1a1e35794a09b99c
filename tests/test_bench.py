"""The benchmark harness: the synthetic book is a valid manuscript, and a quick run of the
runner writes the results it promises. No timing is asserted here: speed is what
`invoke bench` reports, not what a test checks."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from bench.report import compare, load
from bench.run import BenchError, Options, bench, run_process
from bench.synth import HEADS, MODIFIERS, Spec, edit_paragraph, synthesize
from conftest import prepare
from press import pipeline
from press.source.load import load_book

SMALL = Spec(pages=24, chapters=4, terms=8, seed=3)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_synthetic_book_is_a_valid_manuscript_using_every_term(tmp_path):
    book = synthesize(tmp_path / "manuscript", SMALL)
    loaded = load_book(book.root)
    assert [p.kind for p in loaded.parts] == ["front"] + ["chapter"] * SMALL.chapters
    assert sorted(e.term for e in loaded.glossary) == sorted(book.terms)
    # prepare() lints the glossary: an unused entry (G001) or a broken link would raise.
    prepared = prepare(book.root)
    unused = [item.entry.term for item in prepared.glossary if not item.uses]
    assert unused == []
    levels = {h.level for c in prepared.chapters for h in c.headings}
    assert levels == {2, 3}


def test_terms_are_used_throughout_not_only_once(tmp_path):
    book = synthesize(tmp_path / "manuscript", Spec(pages=60, chapters=6, terms=10, seed=2))
    text = "\n".join(p.read_text("utf-8") for p in book.chapters).lower()
    for term in book.terms:
        chapters_using = sum(term in p.read_text("utf-8").lower() for p in book.chapters)
        assert chapters_using >= 3, f"{term!r} is used in only {chapters_using} chapters"
    assert text.count("[^") >= 2  # footnotes, referenced and defined
    assert re.search(r"^> ", text, re.M) and re.search(r"^(- |1\. )", text, re.M)
    assert re.search(r"\]\(\d\d-[a-z-]+\.md#c\d\d-s1\)", text)  # cross-references


def test_same_seed_same_book_other_seed_other_book(tmp_path):
    first = files_of(synthesize(tmp_path / "a", SMALL).root)
    again = files_of(synthesize(tmp_path / "b", SMALL).root)
    other = files_of(synthesize(tmp_path / "c", Spec(24, 4, 8, seed=4)).root)
    assert first == again
    assert first["glossary.yaml"] != other["glossary.yaml"]


def test_sizes_follow_the_parameters(tmp_path):
    small = synthesize(tmp_path / "s", Spec(pages=80, chapters=5, terms=12))
    large = synthesize(tmp_path / "l", Spec(pages=160, chapters=5, terms=12))
    many = synthesize(tmp_path / "m", Spec(pages=160, chapters=12, terms=30))
    assert 1.7 < large.words / small.words < 2.6
    assert abs(many.words - large.words) / large.words < 0.25  # pages, not chapters, set it
    assert len(many.chapters) == 12 and len(many.terms) == 30
    assert len(list((many.root / "chapters").glob("*.md"))) == 12


def test_too_many_terms_is_a_clear_error(tmp_path):
    limit = len(MODIFIERS) * len(HEADS)
    with pytest.raises(ValueError, match=f"at most {limit} glossary terms"):
        synthesize(tmp_path / "manuscript", Spec(terms=limit + 1))


def test_edit_changes_one_line_and_no_term(tmp_path):
    book = synthesize(tmp_path / "manuscript", SMALL)
    chapter = book.chapters[1]
    texts = [chapter.read_text("utf-8")]
    for turn in range(3):
        line = edit_paragraph(chapter, turn)
        texts.append(chapter.read_text("utf-8"))
        before, after = texts[-2].split("\n"), texts[-1].split("\n")
        assert [n + 1 for n, (a, b) in enumerate(zip(before, after)) if a != b] == [line]
        assert len(before[line - 1]) == len(after[line - 1])
        for term in book.terms:
            assert texts[-2].lower().count(term) == texts[-1].lower().count(term)
    prepare(book.root)  # still a valid manuscript


def test_a_failing_process_is_reported_with_its_output(tmp_path):
    with pytest.raises(BenchError, match="boom"):
        run_process([sys.executable, "-c", "import sys; sys.exit('boom')"], tmp_path)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One real run of the whole harness on a very small book. Two runs are asked for
    within a budget of one second, so the second round is left out: one sample of each."""
    out = tmp_path_factory.mktemp("bench")
    lines: list[str] = []
    options = Options(Spec(pages=10, chapters=2, terms=4), runs=2, out=out, budget=1)
    results, path = bench(options, log=lines.append)
    return results, path, out, lines


def test_quick_run_writes_results_json(quick_run):
    results, path, out, _ = quick_run
    assert path.parent == out and re.fullmatch(r"results-\d{8}-\d{6}\.json", path.name)
    assert json.loads(path.read_text("utf-8")) == results
    assert (out / "latest.json").read_bytes() == path.read_bytes()
    assert load(path)["schema"] == 1
    assert set(results) >= {"commit", "dirty", "timestamp", "machine", "parameters",
                            "measures", "book"}
    assert set(results["machine"]) >= {"cpu_count", "python", "weasyprint", "pandoc"}
    assert results["parameters"] == {"pages": 10, "chapters": 2, "terms": 4, "seed": 1,
                                     "runs": 2, "budget_s": 1.0}


def test_quick_run_measures_every_build(quick_run):
    measures = quick_run[0]["measures"]
    for key in ("pdf_cold_s", "pdf_warm_s", "naive_pdf_s", "epub_cold_s", "epub_warm_s",
                "naive_epub_s", "pdf_ratio", "epub_ratio", "pdf_cold_mem", "pdf_cold_rss",
                "naive_pdf_mem", "epub_cold_rss", "naive_epub_rss", "edit_epub", "edit_pdf",
                "edit_mem", "onedoc_pdf_s", "pdf_cold_cpu", "naive_pdf_cpu", "onedoc_pdf_cpu",
                "pdf_cpu_ratio", "pdf_pages_per_cpu", "naive_pages_per_cpu", "epub_cold_cpu"):
        m = measures[key]
        assert len(m["samples"]) == 1 and m["median"] > 0, key
        assert m["min"] <= m["median"] <= m["max"], key
    assert measures["pdf_ratio"]["target"] == {"max": 1.0}
    assert measures["pdf_cold_mem"]["target"] == {"max": 300.0}
    assert measures["pdf_cpu_ratio"]["target"] == {"max": 1.2}
    # CPU counts the workers: a cold build takes more CPU than WeasyPrint's import alone.
    assert measures["pdf_cold_cpu"]["median"] > 0.5
    # All processes together weigh at least as much as the largest of them.
    assert measures["pdf_cold_mem"]["median"] >= measures["pdf_cold_rss"]["median"] * 0.9
    assert measures["edit_pdf"]["target"] == {"max": 1.5}
    assert 6 <= measures["pdf_cold_pages"]["median"] <= 16  # about the 10 pages asked for
    assert measures["naive_pdf_pages"]["median"] >= 1
    assert measures["edit_same_pages"]["samples"] == [1]


def test_html_preview_row_is_measured_only_if_the_pipeline_has_it(quick_run):
    row = quick_run[0]["measures"]["edit_html"]
    if hasattr(pipeline, "make_html"):
        assert row["samples"] and row["median"] > 0
    else:
        assert row["samples"] == [] and row["pass"] is None
        assert row["note"] == "n/a (no HTML edition yet)"


def test_builds_that_would_overrun_the_budget_are_left_out_whole(quick_run):
    log = "\n".join(quick_run[3])
    assert "round 2: PDF builds left out" in log and "round 2: EPUB builds left out" in log
    assert "round 2/2" not in log
    assert quick_run[0]["incremental"]["pages_after"] == [
        quick_run[0]["incremental"]["pages_before"]]  # one edit, always, even out of time


def test_quick_run_prints_an_aligned_table(quick_run):
    lines = "\n".join(quick_run[3]).splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("measure "))
    assert set(lines[header + 1]) == {"-"}
    rows = lines[header + 2: header + 22]
    assert rows[0].startswith("PDF, ours, cold (empty cache) (s)")
    ends = {m.end() for line in rows for m in [re.search(r"<= [\d.]+", line)] if m}
    assert len(ends) == 1  # the target column lines up (numbers align on the right)


def test_compare_shows_the_change_of_each_median(quick_run):
    new = quick_run[0]
    old = json.loads(json.dumps(new))
    old["commit"] = "0" * 40
    old["measures"]["pdf_cold_s"]["median"] = new["measures"]["pdf_cold_s"]["median"] / 2
    text = compare(old, new)
    row = next(line for line in text.splitlines() if line.startswith("PDF, ours, cold"))
    assert "+100%" in row
    assert "0000000000" in text.splitlines()[0]


def test_load_refuses_other_json(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"measures": {}}', "utf-8")
    with pytest.raises(ValueError, match="not a benchmark result"):
        load(other)


def test_a_short_book_with_a_long_glossary_still_uses_every_term(tmp_path):
    book = synthesize(tmp_path / "manuscript", Spec(pages=4, chapters=2, terms=60))
    prepared = prepare(book.root)
    assert len(prepared.glossary) == 60 and all(item.uses for item in prepared.glossary)


@pytest.mark.parametrize("field", ["pages", "chapters", "terms"])
def test_sizes_below_one_are_refused(field):
    with pytest.raises(ValueError, match=f"{field} must be at least 1"):
        Spec(**{field: 0})


def test_memory_counts_the_processes_a_build_starts(tmp_path):
    """A child that starts a process holding 200 MB is measured with it (the typesetting
    workers are processes of their own)."""
    import sys

    from bench.run import run_process

    hold = "b = bytearray(200 * 1024 * 1024); import time; time.sleep(1)"
    parent = (f"import subprocess, sys; subprocess.run([sys.executable, '-c', {hold!r}], "
              "check=True)")
    run = run_process([sys.executable, "-c", parent], tmp_path)
    assert run.tree_mb >= 200


def test_warm_loop_times_each_rebuild_and_its_pandoc_run(tmp_path):
    from bench.warm import loop

    book = synthesize(tmp_path / "manuscript", SMALL)
    times = loop(book.root, tmp_path / "work", 2, ("html", "epub"), tmp_path / "prof")
    assert {k: len(v) for k, v in times.items()} == {"html": 2, "epub": 2, "pandoc (in html)": 2}
    assert all(0 < p < h for p, h in zip(times["pandoc (in html)"], times["html"]))
    assert sorted(p.name for p in (tmp_path / "prof").iterdir()) == ["epub.prof", "html.prof"]


def test_two_long_chapters_of_the_default_length_have_their_own_target():
    from bench.run import FEW_CHAPTERS_PDF_RATIO, TARGETS, targets

    assert targets(Spec(chapters=2))["pdf_ratio"] == FEW_CHAPTERS_PDF_RATIO
    assert targets(Spec())["pdf_ratio"] == TARGETS["pdf_ratio"] == 1.0
    assert targets(Spec(pages=10, chapters=2))["pdf_ratio"] == 1.0
