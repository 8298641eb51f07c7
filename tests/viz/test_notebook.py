"""docs/notebooks/visualization.ipynb runs in a Jupyter kernel and shows each view inline.

Executed with nbclient and ipykernel, as Jupyter would; the committed notebook has no
outputs, so what is checked is what a fresh run displays.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "visualization.ipynb"


def outputs_of(cell) -> dict[str, str]:
    """MIME type -> content, over every output a code cell displayed."""
    shown: dict[str, str] = {}
    for output in cell.get("outputs", []):
        for mime, content in output.get("data", {}).items():
            shown[mime] = content if isinstance(content, str) else "".join(content)
        if output.get("output_type") == "stream":
            shown["stream"] = output["text"]
    return shown


def test_the_notebook_displays_draw_to_html_and_animate(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    cells = {
        cell.source.splitlines()[0]: outputs_of(cell)
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    drawing = cells['gk.viz.draw(loss, color_by="grad_norm", group_modules=True)']
    assert "image/svg+xml" in drawing or "Graphviz dot program is not installed" in drawing.get(
        "text/html", ""
    )
    page = cells["gk.viz.to_html(loss)"]["text/html"]
    assert page.startswith("<iframe srcdoc=") and "graphkitPage" in page
    player = cells["player = gk.viz.animate(loss)"]["text/html"]
    assert player.startswith("<iframe srcdoc=") and "graphkitPlayer" in player
    assert "= softmax_cross_entropy(" in cells["print(gk.viz.to_text(loss))"]["stream"]
