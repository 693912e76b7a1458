"""The README and the documentation site: short README, generated references up to date, links
that resolve, and a reference entry for every code the gate can give."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from gate.diagnoses import DIAGNOSIS_REFERENCE, NOTE_REFERENCE, WARNING_REFERENCE
from gate.model import DIAGNOSES, NOTE_CODES, WARNING_CODES

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def test_every_code_has_a_reference_entry_and_nothing_else() -> None:
    assert set(DIAGNOSIS_REFERENCE) == set(DIAGNOSES)
    assert set(WARNING_REFERENCE) == set(WARNING_CODES)
    assert set(NOTE_REFERENCE) == set(NOTE_CODES)


def test_every_reference_entry_is_two_sentences() -> None:
    for code, entry in {**DIAGNOSIS_REFERENCE, **WARNING_REFERENCE, **NOTE_REFERENCE}.items():
        for text in (entry.meaning, entry.action):
            assert text[:1].isupper() or text[:1] == "`", (code, text)
            assert text.endswith("."), (code, text)


def test_the_generated_pages_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "docs_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_reference_page_names_every_code() -> None:
    page = (ROOT / "docs" / "reference" / "diagnoses.md").read_text()
    for code in (*DIAGNOSES, *WARNING_CODES):
        assert f"| `{code}` |" in page


def test_the_readme_is_at_most_200_lines() -> None:
    assert len(README.splitlines()) <= 200


def test_the_readme_leads_to_install_exit_codes_and_every_diagnosis() -> None:
    """Install and exit codes are in the README itself; the diagnosis reference is one link."""
    assert "## Install" in README
    assert "pipx install smoke-gate" in README
    assert "## Exit codes" in README
    assert "(docs/reference/diagnoses.md)" in README


def test_every_relative_link_of_the_readme_and_the_docs_resolves() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target, _anchor in LINK.findall(page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_page_is_in_the_site_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").rglob("*.md"):
        assert str(page.relative_to(ROOT / "docs")) in nav, page


def test_the_benchmark_commands_the_docs_quote_are_the_makefiles() -> None:
    makefile = (ROOT / "Makefile").read_text()
    quoted = re.findall(r"`\.venv/bin/python (bench/\S+\.py[^`]*)`", _all_docs())
    assert quoted
    for command in quoted:
        assert f"$(BIN)/python {command}\n" in makefile, command


def _all_docs() -> str:
    return "\n".join([README, *(p.read_text() for p in sorted((ROOT / "docs").rglob("*.md")))])
