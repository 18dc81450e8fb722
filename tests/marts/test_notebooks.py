"""The notebooks run top to bottom against demo data in a fresh kernel; a failing cell fails."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["kedah_overview.ipynb", "weekly_report.ipynb"])
def test_notebook_executes_and_draws_its_charts(name, demo_warehouse, monkeypatch):
    monkeypatch.setenv("KEDAH_PG_URL", demo_warehouse)  # the kernel inherits it
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # python3 is the kernel of the interpreter running the tests (the project's .venv)
    NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    text = "".join(o.get("text", "") for o in outputs)
    assert "DEMO data" in text or "demo data" in text
