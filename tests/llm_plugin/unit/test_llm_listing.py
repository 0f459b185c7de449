"""The plugin's model listing: the transport's quick listing with llm's key and folder.

What the listing itself does (endpoint order, fallbacks, the saved list, reuse) is
tested in ``tests/transport/unit/test_listing_cache.py``; ``llm models`` and prompts in
every server state in ``tests/llm_plugin/faults/test_llm_server_states.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from llm_fixtures import QWEN
from lmstudio_provider.llm_plugin import _listing as registry
from lmstudio_provider.transport import ModelListCache

pytestmark = pytest.mark.usefixtures("llm_user_dir")


def test_the_api_key_llm_knows_is_sent(
    lmstudio: respx.MockRouter, llm_user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = lmstudio.routes["models"].calls
    registry.current_listing()
    assert "Authorization" not in requests.last.request.headers
    monkeypatch.setenv("LMSTUDIO_API_KEY", "sk-lm-from-env")
    registry.current_listing()
    assert requests.last.request.headers["Authorization"] == "Bearer sk-lm-from-env"
    (llm_user_dir / "keys.json").write_text(json.dumps({"lmstudio": "sk-lm-stored"}))
    registry.current_listing()
    assert requests.last.request.headers["Authorization"] == "Bearer sk-lm-stored"


def test_the_list_is_saved_in_llms_folder_and_reused_in_the_process(
    lmstudio: respx.MockRouter, llm_user_dir: Path
) -> None:
    listing = registry.current_listing()
    assert registry.cache_path() == llm_user_dir / "lmstudio-models.json"
    saved = json.loads(registry.cache_path().read_text())
    assert saved["servers"]["http://localhost:1234"]["dialect"] == "v1"
    assert registry.current_listing() is listing
    ModelListCache.forget_recent()
    assert registry.current_listing() is not listing
    assert lmstudio.routes["models"].call_count == 2
    assert QWEN in [model.id for model in listing.models]
