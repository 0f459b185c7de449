"""What ``llm --help`` pays for the plugin: no request, and no transport imported.

llm imports every plugin and calls ``register_commands`` on every start. Run in a
fresh interpreter (the test process has long imported everything), with every
socket connection recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, socket, sys
connections = []
original = socket.socket.connect
def record(self, address):
    connections.append(str(address))
    return original(self, address)
socket.socket.connect = record
socket.create_connection = lambda address, *a, **k: connections.append(str(address))
from llm.cli import cli
try:
    cli.main(["--help"], standalone_mode=False)
finally:
    heavy = ["lmstudio_provider.transport._sync_client",
             "lmstudio_provider.transport._async_client",
             "lmstudio_provider.transport._config", "lmstudio_provider.llm_plugin._listing",
             "lmstudio_provider.llm_plugin._chat", "lmstudio_provider.transport._listing_cache",
             "lmstudio_provider.transport._connection", "pydantic_settings", "tenacity"]
    print(json.dumps({
        "plugin": "lmstudio_provider.llm_plugin" in sys.modules,
        "imported": [name for name in heavy if name in sys.modules],
        "connections": connections,
    }), file=sys.stderr)
"""


def test_llm_help_imports_the_plugin_and_nothing_heavy(tmp_path: Path) -> None:
    env = {"LLM_USER_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    finished = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert "lmstudio" in finished.stdout  # `llm lmstudio ...` is listed
    report = json.loads(finished.stderr.strip().splitlines()[-1])
    assert report == {"plugin": True, "imported": [], "connections": []}
