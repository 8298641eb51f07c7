"""The lessons as Jupyter notebooks, made from the lesson scripts (which stay the source).

Run it: python docs/lessons/make_notebooks.py [--out build/notebooks]   (or `make notebooks`)

Each notebook opens with the script's docstring as text and a setup cell, then has one
code cell per part of the script, cut where the docs' snippet markers (``# --8<--``) are
(those at the left margin; the others are dropped).
The setup cell makes ``_lesson`` and ``models`` importable from this checkout and shows
every picture the lesson writes (its graphs, its plots) inline, under the cell that wrote
it. tests/docs/test_notebooks.py executes them with nbclient.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from graphkit.files import atomic_output

LESSONS_DIR = Path(__file__).resolve().parent
ROOT = LESSONS_DIR.parents[1]
SNIPPET_MARKER = re.compile(r"^# --8<-- \[(start|end):[\w-]+\]$")

# What the setup cell does after putting this checkout's folders on sys.path.
SHOW_PICTURES = '''\
from IPython import get_ipython
from IPython.display import SVG, Image, display

from _lesson import IMAGES

_shown = {path: path.stat().st_mtime_ns for path in IMAGES.iterdir()}


def _show_new_pictures(result):
    for path in sorted(IMAGES.iterdir()):
        written = path.stat().st_mtime_ns
        if _shown.get(path) == written:
            continue
        _shown[path] = written
        if path.suffix == ".svg":
            display(SVG(filename=str(path)))
        elif path.suffix == ".png":
            display(Image(filename=str(path)))


get_ipython().events.register("post_run_cell", _show_new_pictures)
'''


def setup_cell() -> str:
    """Import this checkout's lesson helpers and models; show every picture the lesson
    writes (graphs, plots) under the cell that wrote it."""
    folders = [str(LESSONS_DIR), str(ROOT)]
    return f"import sys\n\nsys.path[:0] = {folders!r}\n\n{SHOW_PICTURES}".rstrip()


def lesson_scripts() -> list[Path]:
    return sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))


def notebook_of(script: Path) -> nbformat.NotebookNode:
    """The notebook of one lesson script (see the module docstring)."""
    source = script.read_text(encoding="utf-8")
    module = ast.parse(source)
    docstring = ast.get_docstring(module) or script.stem
    title, _, rest = docstring.partition("\n")
    body = source.splitlines()[module.body[0].end_lineno :] if docstring else source.splitlines()
    cells = [
        new_markdown_cell(f"# {title}\n{rest}".rstrip()),
        new_code_cell(setup_cell()),
    ]
    part: list[str] = []
    for line in [*body, "# --8<-- [end:end]"]:
        if not SNIPPET_MARKER.match(line.strip()):
            part.append(line)
        elif line == line.lstrip():  # an indented marker is inside a block: no cut there
            text = "\n".join(part).strip("\n")
            if text.strip():
                cells.append(new_code_cell(text))
            part = []
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python"
    }  # fmt: skip
    return notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notebooks")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for script in lesson_scripts():
        path = args.out / f"{script.stem}.ipynb"
        with atomic_output(path) as file:
            file.write(nbformat.writes(notebook_of(script)).encode("utf-8"))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
