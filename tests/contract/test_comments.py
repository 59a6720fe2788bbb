"""Comments cite only what the repository contains: no design notes, issue numbers or research files."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# documents that live outside the repository (its authors' notes): a reader cannot follow them
OUTSIDE = re.compile(r"DESIGN\s*§|DESIGN\.md|STYLE\.md|data-sources\.md|stack-notes\.md|note de conception"
                     r"|\b[Ii]ssue \d+\b")
CHECKED = ("src", "dags", "scripts", "tests/unit", "tests/contract", "tests/e2e", "tests/integration",
           "dbt_project/models", "dbt_project/macros", "dbt_project/tests", "dbt_project/seeds", "docs", "docker")
FILES = ("README.md", "CONTRIBUTING.md", "Makefile", "pyproject.toml", "docker-compose.yml", ".env.example")
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".sh", ".toml", ".csv", ".Dockerfile", ""}


def test_no_comment_cites_a_document_outside_the_repository() -> None:
    paths = [REPO / f for f in FILES] + [p for d in CHECKED for p in (REPO / d).rglob("*")
                                         if p.is_file() and p.suffix in SUFFIXES and "target" not in p.parts]
    offending = []
    for path in paths:
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offending.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offending == []
