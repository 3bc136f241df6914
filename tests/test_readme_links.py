"""Every link in README.md and in the documentation pages leads somewhere.

A Markdown link or image (``[text](target)``, ``![alt](target)``) must name a file of the repository,
relative to the page it is on, and, with ``#anchor``, a heading (or a MyST ``(label)=`` target) of that
page. Links to the web are allowed only to the short list below: the README and the pages point into the
repository, whose files travel with every clone. Code blocks and inline code are not links. The
checker is run once on a planted page, so it cannot pass by finding nothing.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)

#: web addresses a page may link to (prefixes)
ALLOWED_EXTERNAL = ("https://www.sphinx-doc.org/",)

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LABEL = re.compile(r"^\(([^()\s]+)\)=\s*$")


def prose_lines(text: str, strip_code: bool = True):
    """(line number, line) of the lines outside fenced code blocks, inline code removed (or kept)."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = _FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(2)[0] * len(m.group(2))
                continue
            if m.group(2).startswith(fence):
                fence = None
                continue
        if fence is None:
            yield number, _INLINE_CODE.sub("", line) if strip_code else line


def links(text: str) -> list[tuple[int, str]]:
    return [(n, m.group(1)) for n, line in prose_lines(text) for m in _LINK.finditer(line)]


def slug(heading: str) -> str:
    """GitHub's (and MyST's) anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(page.read_text(encoding="utf-8"), strip_code=False):
        m = _HEADING.match(line)
        if m:
            base = slug(m.group(2))
            k = seen.get(base, 0)
            seen[base] = k + 1
            found.add(base if k == 0 else f"{base}-{k}")
        m = _LABEL.match(line)
        if m:
            found.add(m.group(1))
    return found


def broken(page: Path, text: str | None = None, root: Path = ROOT) -> list[str]:
    """The links of ``page`` (or of ``text``, as if it were ``page``) that lead nowhere, with why."""
    text = page.read_text(encoding="utf-8") if text is None else text
    problems = []
    for number, target in links(text):
        where = f"{page.relative_to(root)}:{number}: {target}"
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            if not target.startswith(ALLOWED_EXTERNAL):
                problems.append(f"{where}: a link out of the repository (allowed: {ALLOWED_EXTERNAL})")
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if root not in dest.parents and dest != root:
            problems.append(f"{where}: outside the repository")
            continue
        if not dest.is_file():
            problems.append(f"{where}: no such file")
            continue
        if anchor:
            if dest.suffix != ".md":
                problems.append(f"{where}: an anchor into a file that is not a Markdown page")
            elif anchor not in anchors(dest):
                problems.append(f"{where}: no heading or label '{anchor}' in {dest.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page):
    assert broken(page) == []


def test_the_readme_links_into_the_documentation():
    targets = {t.partition("#")[0] for _, t in links((ROOT / "README.md").read_text(encoding="utf-8"))}
    for page in ("docs/getting_started.md", "docs/measured.md", "docs/running.md", "docs/deck.md",
                 "docs/limitations.md", "docs/api/index.rst"):
        assert page in targets, f"README.md does not link to {page}"


def test_the_checker_finds_planted_faults(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## Some `code` here\n\n(label)=\ntext\n")
    page = tmp_path / "README.md"
    text = "\n".join([
        "[fine](docs/page.md) [fine too](docs/page.md#some-code-here) [label](docs/page.md#label)",
        "[missing](docs/nope.md)",
        "![missing image](docs/img/nope.png)",
        "[bad anchor](docs/page.md#no-such-heading)",
        "[web](https://example.com/x)",
        "`[in code](docs/nope2.md)`",
        "```",
        "[in a fence](docs/nope3.md)",
        "```",
    ])
    page.write_text(text)
    problems = broken(page, root=tmp_path)
    assert len(problems) == 4, problems
    assert any("docs/nope.md: no such file" in p for p in problems)
    assert any("nope.png: no such file" in p for p in problems)
    assert any("no heading or label 'no-such-heading'" in p for p in problems)
    assert any("out of the repository" in p for p in problems)


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


def test_ci_runs_the_readme_test_command():
    """.ci/run is the README's second quick-start command, word for word, docs build included."""
    readme = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
              if line.startswith("pip install torch==2.13.0 && pip install -e")]
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.startswith("pip install torch==2.13.0")]
    assert len(readme) == 1 and ci == readme
    assert "python -m sphinx -W --keep-going -n" in readme[0]
