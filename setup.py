"""Build and install the osu! server: the `server` package plus its Rust core.

The core is a plain cdylib (no PyO3): setuptools-rust builds it with `Binding.NoBinding`
and places it inside the package as `server/core/_rust_core*.so`, where `server/core` loads
it with cffi in ABI mode. Its declarations travel as `server/core/_ffi.py`, generated from the
C headers (server/core/cdef.py), so nothing parses C at run time.
"""

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools_rust import Binding, RustExtension

ROOT = Path(__file__).parent
SQL = ROOT / "sql"
LINT = ["ruff>=0.8", "mypy>=1.13", "types-cffi", "types-tqdm"]


class BuildPyWithSql(build_py):
    """Ship what the server reads at run time inside the package: the top-level `sql/` (named
    queries and migrations, found by server/db as `server/sql`)."""

    def run(self) -> None:
        super().run()
        sql_target = Path(self.build_lib) / "server" / "sql"
        if sql_target.exists():
            shutil.rmtree(sql_target)  # a file removed from sql/ must not linger in the wheel
        for source in sorted(SQL.rglob("*.sql")):
            destination = sql_target / source.relative_to(SQL)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        if not any((sql_target / "migrations").glob("*.sql")):
            raise SystemExit(f"no migrations under {SQL}: the source tree is incomplete")


setup(
    name="osu-lean-server",
    version="0.1.0",
    description="A lean osu!(lazer) server: API v1/v2, SignalR hubs, pp via rosu-pp",
    python_requires=">=3.11",
    packages=find_packages(include=["server", "server.*"]),
    package_data={"server": ["py.typed"]},
    rust_extensions=[
        RustExtension(
            "server.core._rust_core",
            path="rust_core/Cargo.toml",
            binding=Binding.NoBinding,
            py_limited_api=False,
            # Release even for `pip install -e .`: pp and the codec are hot paths, and bench/
            # refuses a debug build.
            debug=False,
        )
    ],
    install_requires=[
        "starlette>=0.47",
        # uvicorn[standard] without watchfiles and PyYAML: `serve` never reloads nor reads a
        # YAML log config, and `import uvicorn` loads watchfiles whenever it is installed
        # (0.6 MiB of every idle server, issue 17).
        "uvicorn>=0.30",
        "uvloop>=0.15.1; sys_platform != 'win32' and sys_platform != 'cygwin'"
        " and platform_python_implementation != 'PyPy'",
        "httptools>=0.8.0",
        "websockets>=13.0",
        "databases[aiomysql,aiosqlite]==0.9.0",
        "pypika>=0.48",
        "redis>=5.0",
        "fakeredis[lua]>=2.26",
        "msgspec>=0.19",
        "apscheduler>=3.10,<4",
        "cffi>=1.16",
        "bcrypt>=4.1",
        "pyjwt>=2.8",
        "python-multipart>=0.0.9",
        "python-dotenv>=1.0",
        "pycountry>=24.6",
        "httpx>=0.27",
        "tqdm>=4.66",
        "pyotp>=2.9",
        "prometheus-client>=0.20",
        "aiobotocore>=2.13",  # the S3-compatible object store (S3_BUCKET)
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-asyncio>=0.24",
            "hypothesis>=6.100",
            "httpx>=0.27",
            "httpx2>=2.0",  # starlette.testclient (WebSocket tests) wants it
            "requests>=2.31",
            "requests-oauthlib>=2.0",
            "ossapi==5.3.6",
            # Two more independent v2 clients for the conformance sweep (clients.md §1):
            # aiosu 2.5.1 (also its chat and v1 clients) is the newest for Python 3.11; osu.py
            # installs the `osu` module
            # (never install the unrelated PyPI package `osu` beside it).
            "aiosu==2.5.1",
            "osu.py==4.3.1",
            "rosu-pp-py==4.0.2",
            "msgpack>=1.0",
            "osrparse==6.0.2",  # an independent .osr reader for the replay writer's tests
            "websockets>=13",  # real-socket hub tests
            "aiosignalr==0.1.1",  # an independent SignalR client (clients.md §2)
            "osuapi==0.0.43",  # strict API v1 models (clients.md §1.3)
            "moto[server]>=5.0",  # a real S3-compatible server for the object store tests
            # .ci/run's static checks: ruff check, ruff format --check, mypy --strict server.
            *LINT,
        ],
        "dev": LINT,
    },
    entry_points={"console_scripts": ["osu-server=server.__main__:main"]},
    cmdclass={"build_py": BuildPyWithSql},
    zip_safe=False,
)
