"""The version matrix (scripts/matrix.py): what CI reads from it, and the generated table of tested
versions (docs/compatibility.md) naming every cell it has."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _matrix():
    spec = importlib.util.spec_from_file_location("matrix", os.path.join(ROOT, "scripts", "matrix.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_read_every_pytest_summary_form():
    """Counts come from pytest's closing line, errors counted with failures' kind."""
    matrix = _matrix()
    assert matrix.counts("1 failed, 1215 passed, 3 skipped, 2 errors in 11.2s") == {
        "failed": 1, "passed": 1215, "skipped": 3, "error": 2}
    assert matrix.summary_line("...\n===== 12 passed, 1 skipped in 3.01s =====\n") == "12 passed, 1 skipped in 3.01s"
    assert matrix.counts(matrix.summary_line("crashed")) == {}


def test_compatibility_table_has_a_row_per_cell():
    """docs/compatibility.md is written by the matrix: each of its cells has a row there."""
    matrix = _matrix()
    with open(os.path.join(ROOT, "docs", "compatibility.md"), encoding="utf-8") as handle:
        rows = [line.split("|")[1].strip() for line in handle if line.startswith("| ")]
    assert set(c.name for c in matrix.CELLS if not c.preview) <= set(rows)
    assert "main (+ e2e)" in rows


def test_every_cell_runs_the_core_tests():
    """No cell runs less than the quick set (the start, the lazy start, smoke, the SDK guards)."""
    matrix = _matrix()
    for cell in matrix.CELLS:
        assert cell.tests is matrix.WHOLE or set(matrix.QUICK) <= set(cell.tests) or set(matrix.CORE) <= set(cell.tests), cell.name
        for path in cell.tests or ():
            assert os.path.exists(os.path.join(ROOT, path)), path
