"""The README's promises: its ten-line example runs, and its links lead somewhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def ten_lines_example() -> str:
    """The python code block of the README's "Ten lines" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Ten lines\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, 'the "Ten lines" section has no ```python block'
    return match.group(1)


def test_ten_lines_are_at_most_ten_lines():
    code = ten_lines_example()
    assert len(code.rstrip("\n").splitlines()) <= 10, code


def test_ten_lines_run(capsys):
    exec(compile(ten_lines_example(), str(README), "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out  # it prints the loss and the gradients


def test_relative_links_point_to_existing_files():
    targets = LINK.findall(README.read_text(encoding="utf-8"))
    relative = [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and t[0] != "#"]
    assert relative, "no relative links found: is the link pattern still right?"
    missing = [t for t in relative if not (README.parent / t.split("#")[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
