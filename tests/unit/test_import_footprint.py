"""What a serving process loads: never the test tools, and the S3 client only with S3_BUCKET
(aiobotocore with botocore and aiohttp was about 17 MiB of every server's idle RSS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Builds the app as `serve` does, and the object store as its start-up does, then lists the
# top-level packages loaded.
_PROBE = """
import json, sys
from server.settings import load_settings
from server.app import create_app, open_object_store
settings = load_settings()
create_app(settings)
open_object_store(settings)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

_NEVER = {"hypothesis", "pytest", "_pytest", "moto", "websockets_test"}
_ONLY_WITH_S3 = {"aiobotocore", "botocore", "aiohttp", "boto3"}


def _loaded(tmp_path: Path, **env: str) -> set[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**keep, "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_server_without_a_bucket_loads_no_test_tools_and_no_s3_client(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    assert "server" in loaded and "starlette" in loaded  # the probe did build the app
    assert not loaded & (_NEVER | _ONLY_WITH_S3), sorted(loaded & (_NEVER | _ONLY_WITH_S3))


def test_a_server_with_a_bucket_loads_the_s3_client(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, S3_BUCKET="replays", S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert {"aiobotocore", "botocore"} <= loaded
    assert not loaded & _NEVER
