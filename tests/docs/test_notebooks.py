"""The lessons as Jupyter notebooks (docs/lessons/make_notebooks.py): each one is made from
its script and executed with nbclient in fast mode, and its pictures, graphs among them,
show inline.

The notebooks of the Fashion-MNIST lessons train for a while even in fast mode: slow.
"""

import importlib.util
import os

import pytest
from test_lessons import LESSONS, LESSONS_DIR, NEEDS_FASHION_MNIST, missing_requirement

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TIMEOUT_S = 180


def load_maker():
    path = LESSONS_DIR / "make_notebooks.py"
    spec = importlib.util.spec_from_file_location("make_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_notebooks = load_maker()


def image_outputs(notebook, kind):
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if kind in output.get("data", {})
    ]


def test_make_notebooks_writes_one_valid_notebook_per_lesson(tmp_path):
    make_notebooks.main(["--out", str(tmp_path)])
    assert sorted(path.stem for path in tmp_path.glob("*.ipynb")) == [s.stem for s in LESSONS]
    for path in tmp_path.glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))


def test_the_cells_follow_the_snippet_markers():
    notebook = make_notebooks.notebook_of(LESSONS_DIR / "05_graphs.py")
    markdown, setup, *code = notebook.cells
    assert markdown.cell_type == "markdown" and markdown.source.startswith("# Lesson 5: ")
    assert "post_run_cell" in setup.source
    assert not any("--8<--" in cell.source for cell in code)
    assert code[1].source.startswith("rng = np.random.default_rng(0)")  # the forward part
    assert code[1].source.endswith('gk.viz.render(loss, IMAGES / "05_tinynet_forward.svg")')


LESSON_PARAMS = [
    pytest.param(
        script,
        id=script.stem,
        marks=[pytest.mark.slow] if script.name in NEEDS_FASHION_MNIST else [],
    )
    for script in LESSONS
]


@pytest.mark.parametrize("script", LESSON_PARAMS)
def test_notebook_runs_and_shows_its_pictures(script, tmp_path, monkeypatch):
    missing = missing_requirement(script)
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{missing}; CI must provide it")
        pytest.skip(missing)
    # The kernel inherits this environment: fast mode, pictures into tmp_path.
    monkeypatch.setenv("GRAPHKIT_FAST", "1")
    monkeypatch.setenv("GRAPHKIT_LESSON_OUT", str(tmp_path / "images"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = make_notebooks.notebook_of(script)
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT_S, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    written = [path for path in (tmp_path / "images").iterdir() if path.suffix in (".png", ".svg")]
    shown = image_outputs(notebook, "image/png") + image_outputs(notebook, "image/svg+xml")
    assert len(shown) >= len(written) > 0  # a picture written twice shows twice
    if script.name == "05_graphs.py":  # TinyNet's forward and backward graphs, inline
        assert len(image_outputs(notebook, "image/svg+xml")) == 2
