"""The station's vocabulary from a TOML file: ``python -m dashboard.load vocabulary FILE``.

Per kind (``schema.VOCABULARY_KINDS``: incident_category, report_category,
urgency, dispute_kind, department), an array of terms in the order the screen
lists them (legends, filters, the trends page's tiles)::

    [[incident_category]]
    code = "盗窃"          # the value the data rows carry (a mapping's value map makes it)
    colour = "#e4572e"     # optional: the term's colour on every chart; default: the palette
    key = true             # optional: 重点类别, a tile on the trends page

The code is what the screen shows: a station renames a category in its
mapping's value map (``map = { "盗窃案" = "盗窃" }``), so the data and the
screen carry the same word. A kind the file names is set in the file's order;
terms of that kind the file leaves out are kept, listed after the file's (and
said so); a kind the file does not name is left as it is. One transaction;
``--dry-run`` shows what would change and writes nothing.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from dashboard.db import schema
from dashboard.writers.load.mapping import MappingError

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
CODE_LEN = schema.vocabulary.c.code.type.length


@dataclass
class VocabularySummary:
    file: str
    dry_run: bool
    kinds: dict[str, int] = field(default_factory=dict)  # terms set per kind
    added: list[str] = field(default_factory=list)
    kept_after: dict[str, list[str]] = field(default_factory=dict)  # kind -> codes the file left out


def parse_vocabulary(doc: dict) -> dict[str, list[dict]]:
    """The file's terms per kind, checked; MappingError (Chinese / English) naming the term."""
    unknown = [k for k in doc if k not in schema.VOCABULARY_KINDS]
    if unknown:
        raise MappingError(f"词表没有这些类型：{'、'.join(unknown)}（可用：{'、'.join(schema.VOCABULARY_KINDS)}）/ unknown kinds")
    out: dict[str, list[dict]] = {}
    for kind, terms in doc.items():
        if not isinstance(terms, list) or not all(isinstance(t, dict) for t in terms):
            raise MappingError(f"{kind} 应写成 [[{kind}]] 表数组 / {kind} must be an array of tables")
        seen: set[str] = set()
        rows = []
        for i, t in enumerate(terms, 1):
            at = f"{kind} 第 {i} 项"
            extra = set(t) - {"code", "colour", "key"}
            if extra:
                raise MappingError(f"{at}：未知的键 {'、'.join(sorted(extra))}（可用：code、colour、key）/ unknown keys")
            code = t.get("code")
            if not isinstance(code, str) or not code.strip():
                raise MappingError(f"{at}：需要 code（数据中的取值）/ code is required")
            code = code.strip()
            if len(code) > CODE_LEN:
                raise MappingError(f"{at}：code 超过 {CODE_LEN} 个字符 / code longer than {CODE_LEN} characters")
            if code in seen:
                raise MappingError(f"{at}：code {code!r} 重复 / duplicate code")
            seen.add(code)
            colour = t.get("colour")
            if colour is not None and (not isinstance(colour, str) or not COLOUR.fullmatch(colour)):
                raise MappingError(f"{at}：colour 应为 #rrggbb，例如 \"#e4572e\" / colour must be #rrggbb")
            key = t.get("key", False)
            if not isinstance(key, bool):
                raise MappingError(f"{at}：key 应为 true 或 false / key must be true or false")
            rows.append({"kind": kind, "code": code, "name": code, "sort_order": len(rows), "colour": colour.lower() if colour else None, "key_category": key})
        out[kind] = rows
    return out


def load_vocabulary(engine: Engine, path: Path | str, *, dry_run: bool = False) -> VocabularySummary:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingError(f"词表文件无法读取：{exc.strerror or exc} / cannot read the file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"词表文件不是有效的 TOML：{exc} / not valid TOML") from exc
    by_kind = parse_vocabulary(doc)
    v = schema.vocabulary
    summary = VocabularySummary(str(path), dry_run)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            for kind, rows in by_kind.items():
                old = conn.execute(select(v.c.code, v.c.sort_order).where(v.c.kind == kind).order_by(v.c.sort_order, v.c.code)).all()
                codes = {r["code"] for r in rows}
                left = [o.code for o in old if o.code not in codes]
                summary.added += [f"{kind}:{r['code']}" for r in rows if r["code"] not in {o.code for o in old}]
                if left:
                    summary.kept_after[kind] = left
                if rows:
                    conn.execute(delete(v).where(v.c.kind == kind, v.c.code.in_(codes)))
                    conn.execute(v.insert(), rows)
                for i, code in enumerate(left, len(rows)):
                    conn.execute(v.update().where(v.c.kind == kind, v.c.code == code).values(sort_order=i))
                summary.kinds[kind] = len(rows)
            if dry_run:
                trans.rollback()
            else:
                trans.commit()
        except BaseException:
            trans.rollback()
            raise
    return summary


def current_vocabulary(engine: Engine, kind: str | None = None) -> list[dict]:
    """The vocabulary table as stored (for the command's listing), kind by kind in order."""
    v = schema.vocabulary
    stmt = select(v.c.kind, v.c.code, v.c.sort_order, v.c.colour, v.c.key_category).order_by(v.c.kind, v.c.sort_order, v.c.code)
    if kind:
        stmt = stmt.where(v.c.kind == kind)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
