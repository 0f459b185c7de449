"""The LangChain quick-start notebook runs top to bottom against the server under test.

It runs as the README says to run it (the ``notebook`` dependency group: nbclient and
ipykernel), in a kernel of this environment with ``LMSTUDIO_BASE_URL`` at the server.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from realserver import ServerUnderTest

NOTEBOOK = Path(__file__).parents[3] / "examples" / "langchain_quickstart.ipynb"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("ipykernel") is None,
    reason="needs the `notebook` dependency group (nbclient, ipykernel)",
)


def test_the_notebook_runs_top_to_bottom(
    server: ServerUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbclient
    import nbformat

    monkeypatch.setenv("LMSTUDIO_BASE_URL", server.base_url)  # the kernel inherits it
    monkeypatch.setenv("LMSTUDIO_HTTP_TIMEOUT_SECS", "100")
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]

    nbclient.NotebookClient(
        notebook, timeout=110, kernel_name="python3", resources={"metadata": {"path": "."}}
    ).execute()

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    errors = [
        output for cell in code_cells for output in cell.outputs if output.output_type == "error"
    ]
    assert errors == []
    shown = json.dumps([cell.outputs for cell in code_cells])
    assert server.base_url in shown  # the first cell shows where it talks to
