"""Parsing of the project's `.sql` files: named queries and dialect sections.

Named queries (sql/queries/*.sql) follow aiosql's convention with declared parameters:

    -- name: fetch_user_by_id(user_id)^
    -- Fetch one user by id.
    SELECT ... WHERE id = :user_id;

The suffix says what the call returns: `^` one row or None, `$` one value, `!` execute
(returns the last row id), none for a list of rows. The comment line after the name is the
docstring (required). A query whose text must differ by dialect holds one section per
dialect, each opened by `-- dialect: mysql` or `-- dialect: sqlite`; then every dialect must
have its variant. DDL files (schema.sql, migrations) use the same dialect sections, where a
section without a dialect applies to both.

Every problem is reported as `file:line: message`, and the server refuses to start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

import msgspec

DIALECTS = ("mysql", "sqlite")

_NAME_RE = re.compile(
    r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*\((?P<params>[^)]*)\)\s*(?P<op>[\^$!]?)\s*$"
)
_NAME_LINE_RE = re.compile(r"^--\s*name:")
_DIALECT_RE = re.compile(r"^--\s*dialect:\s*(?P<dialect>\w+)\s*$")
# `:name` bind parameters; `::` and `:=` never occur in our SQL, and a colon inside a string
# literal would be misread, so the loader refuses literals that contain one (see _strip).
_PARAM_RE = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LITERAL_RE = re.compile(r"'(?:[^']|'')*'")


class SqlFileError(Exception):
    """A `.sql` file is malformed; the message starts with file:line."""


class Operation(Enum):
    """What a named query returns."""

    ROWS = ""
    ROW = "^"
    VALUE = "$"
    EXECUTE = "!"


class NamedQuery(msgspec.Struct, frozen=True):
    """One named query: its declared parameters and its text per dialect."""

    name: str
    operation: Operation
    params: tuple[str, ...]
    doc: str
    texts: dict[str, str]
    source: str


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _used_params(sql: str) -> list[str]:
    return _PARAM_RE.findall(_LITERAL_RE.sub("''", sql))


def _clean_sql(lines: Iterable[str]) -> str:
    text = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _split_dialects(
    path: Path, body: list[tuple[int, str]]
) -> dict[str | None, list[tuple[int, str]]]:
    sections: dict[str | None, list[tuple[int, str]]] = {}
    current: str | None = None
    for lineno, line in body:
        match = _DIALECT_RE.match(line.strip())
        if match:
            dialect = match.group("dialect").lower()
            if dialect not in DIALECTS:
                raise SqlFileError(
                    f"{_where(path, lineno)}: unknown dialect {dialect!r} (expected one of "
                    f"{', '.join(DIALECTS)})"
                )
            if dialect in sections:
                raise SqlFileError(f"{_where(path, lineno)}: dialect {dialect!r} given twice")
            current = dialect
            sections[current] = []
            continue
        sections.setdefault(current, []).append((lineno, line))
    return sections


def parse_queries(path: Path, text: str | None = None) -> list[NamedQuery]:
    """Parse one file of named queries, checking names, docstrings, parameters and dialects."""
    text = path.read_text() if text is None else text
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _NAME_LINE_RE.match(line.strip())]
    preamble = [ln for ln in lines[: starts[0] if starts else len(lines)] if ln.strip()]
    if any(not ln.lstrip().startswith("--") for ln in preamble):
        raise SqlFileError(f"{_where(path, 1)}: SQL before the first `-- name:` line")

    queries: list[NamedQuery] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        header = lines[start].strip()
        match = _NAME_RE.match(header)
        if not match:
            raise SqlFileError(
                f"{_where(path, start + 1)}: malformed name line {header!r}; expected "
                "`-- name: query_name(param, ...)` with an optional ^, $ or ! suffix"
            )
        name = match.group("name")
        params = tuple(p.strip() for p in match.group("params").split(",") if p.strip())
        if len(set(params)) != len(params):
            raise SqlFileError(f"{_where(path, start + 1)}: {name}: a parameter is declared twice")
        doc_line = lines[start + 1].strip() if start + 1 < end else ""
        if not doc_line.startswith("--") or _DIALECT_RE.match(doc_line):
            raise SqlFileError(
                f"{_where(path, start + 1)}: {name}: the line after the name must be a "
                "`-- docstring` comment"
            )
        doc = doc_line.lstrip("-").strip()
        body = [(i + 1, lines[i]) for i in range(start + 2, end)]
        sections = _split_dialects(path, body)

        texts: dict[str, str] = {}
        if set(sections) == {None}:
            sql = _clean_sql(line for _, line in sections[None])
            texts = {dialect: sql for dialect in DIALECTS}
        else:
            stray = [
                ln
                for ln, text_ in sections.get(None, [])
                if text_.strip() and not text_.lstrip().startswith("--")
            ]
            if stray:
                raise SqlFileError(
                    f"{_where(path, stray[0])}: {name}: SQL outside a dialect section "
                    "(once a query has `-- dialect:` sections, all its SQL belongs to one)"
                )
            missing = [d for d in DIALECTS if d not in sections]
            if missing:
                raise SqlFileError(
                    f"{_where(path, start + 1)}: {name}: missing dialect variant "
                    f"{', '.join(missing)}"
                )
            texts = {d: _clean_sql(line for _, line in sections[d]) for d in DIALECTS}

        for dialect, sql in texts.items():
            if not sql:
                raise SqlFileError(f"{_where(path, start + 1)}: {name}: empty SQL ({dialect})")
            if ";" in sql.rstrip(";"):
                raise SqlFileError(
                    f"{_where(path, start + 1)}: {name}: one statement per named query ({dialect})"
                )
            used = _used_params(sql)
            for param in used:
                if param not in params:
                    offset = next((ln for ln, t in body if f":{param}" in t), start + 1)
                    raise SqlFileError(
                        f"{_where(path, offset)}: {name}: unknown parameter :{param} "
                        f"(declared: {', '.join(params) or 'none'})"
                    )
            unused = [p for p in params if p not in used]
            if unused:
                raise SqlFileError(
                    f"{_where(path, start + 1)}: {name}: declared parameter "
                    f"{', '.join(unused)} is not used ({dialect})"
                )
        queries.append(
            NamedQuery(
                name=name,
                operation=Operation(match.group("op")),
                params=params,
                doc=doc,
                texts=texts,
                source=_where(path, start + 1),
            )
        )
    return queries


def load_query_dir(directory: Path) -> dict[str, NamedQuery]:
    """Load every `*.sql` file of named queries; a name defined twice is an error."""
    found: dict[str, NamedQuery] = {}
    for path in sorted(directory.glob("*.sql")):
        for query in parse_queries(path):
            if query.name in found:
                raise SqlFileError(
                    f"{query.source}: duplicate query name {query.name!r} "
                    f"(first defined at {found[query.name].source})"
                )
            found[query.name] = query
    return found


def ddl_statements(path: Path, dialect: str, text: str | None = None) -> list[str]:
    """The statements of a DDL file (schema.sql or a migration) that apply to `dialect`."""
    text = path.read_text() if text is None else text
    numbered = list(enumerate(text.splitlines(), start=1))
    statements: list[str] = []
    current: list[str] = []
    section: str | None = None
    for lineno, line in numbered:
        stripped = line.strip()
        match = _DIALECT_RE.match(stripped)
        if match:
            value = match.group("dialect").lower()
            if value not in (*DIALECTS, "all"):
                raise SqlFileError(f"{_where(path, lineno)}: unknown dialect {value!r}")
            if current and any(c.strip() for c in current):
                raise SqlFileError(
                    f"{_where(path, lineno)}: a dialect section starts inside a statement"
                )
            section = None if value == "all" else value
            continue
        if stripped.startswith("--") or not stripped:
            continue
        if section is not None and section != dialect:
            continue
        current.append(line)
        if stripped.endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";").strip())
            current = []
    if current:
        raise SqlFileError(f"{_where(path, numbered[-1][0])}: last statement has no `;`")
    return statements
