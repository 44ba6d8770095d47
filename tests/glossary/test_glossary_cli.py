"""``madoguchi glossary`` commands through the root CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from glossary.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_validate_valid_dir_prints_summary(data_dir: Path) -> None:
    """A valid directory exits 0 with counts, coverage and domains."""
    result = runner.invoke(app, ["validate", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "terms: 10  phrases: 2" in result.output
    assert "vi 100%" in result.output and "住民登録" in result.output


def test_validate_bad_file_lists_problems_and_fails(tmp_path: Path, data_dir: Path) -> None:
    """A bad file prints file:line: field: message for each problem and exits 1."""
    src = (data_dir / "terms" / "res.csv").read_text(encoding="utf-8")
    bad = tmp_path / "res.csv"
    bad.write_text(src.replace("giấy chứng nhận cư trú,", ",", 1).replace(",reviewed,", ",ok,"), "utf-8")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: vi: empty translation" in result.output
    assert f"{bad}:5: status: unknown status 'ok'" in result.output


def test_match_json(data_dir: Path) -> None:
    """match --json --lang vi gives ids, spans and the approved term."""
    result = runner.invoke(
        app, ["match", "じゅうみんひょうをください", "--json", "--lang", "vi", "--glossary", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    (m,) = json.loads(result.output)["matches"]
    assert (m["term_id"], m["start"], m["end"]) == ("res.juminhyo", 0, 8)
    assert m["approved"] == "giấy chứng nhận cư trú"


def test_export_import_diff(tmp_path: Path, data_dir: Path) -> None:
    """export xlsx, import it back to CSV, and diff shows no difference."""
    xlsx = tmp_path / "g.xlsx"
    assert (
        runner.invoke(app, ["export", str(data_dir), "--format", "xlsx", "--out", str(xlsx)]).exit_code == 0
    )
    result = runner.invoke(app, ["import", str(xlsx), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["diff", str(data_dir), str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0
    d = json.loads(result.output)
    assert d["terms"] == {"added": [], "removed": [], "changed": []}


def test_root_cli_prints_one_line_error(tmp_path: Path) -> None:
    """Through `python -m madoguchi`, a broken file gives `SchemaError: …` and exit 1, no traceback."""
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"term_id,domain\nres.a,res\n")
    proc = subprocess.run(
        [sys.executable, "-m", "madoguchi", "glossary", "diff", str(bad), str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("SchemaError: ") and "Traceback" not in proc.stderr


def test_validate_strict_fails_on_warnings(tmp_path: Path, data_dir: Path) -> None:
    """A BOM is only a warning, unless --strict is given."""
    path = tmp_path / "res.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (data_dir / "terms" / "res.csv").read_bytes())
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(path), "--strict", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] and report["problems"][0]["severity"] == "warning"


def test_root_cli_validate_exit_code(tmp_path: Path, data_dir: Path) -> None:
    """`madoguchi glossary validate` exits 1 on a bad file and 0 on a good one."""
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"term_id,domain\nres.a,res\n")
    for path, code in ((bad, 1), (data_dir, 0)):
        proc = subprocess.run(
            [sys.executable, "-m", "madoguchi", "glossary", "validate", str(path)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == code, proc.stdout + proc.stderr
