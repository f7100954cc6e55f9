"""Reading a station's files: tables (CSV, Excel) as text, and place features
(GeoJSON, KML, zipped Shapefile) as GeoJSON geometry with their properties.

Every table cell is read as text. A CSV is never type-guessed, so an 18-digit
ID number or a phone number with a leading zero arrives as written. An Excel
workbook stores types of its own: a cell Excel already holds as a number is
turned back into text without a decimal point when it is whole, and the column
is reported (``TableFile.notes``), because a number longer than 15 digits has
already lost its last digits inside the workbook and no reader can get them back.

Encodings: UTF-8 (with or without BOM) and GB18030 (a superset of GBK and
GB2312, what Chinese office software writes). Unless the mapping names one,
the encoding is found by trying UTF-8 on the whole file first (a valid UTF-8
file of Chinese text is practically never valid GB18030 by accident the other
way round), then GB18030; the choice is reported.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import shapefile
from python_calamine import CalamineWorkbook

ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}


class SourceError(ValueError):
    """A file that cannot be read as asked; the message is Chinese, then English."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_encoding(path: Path, declared: str | None = None) -> str:
    """The text encoding of ``path``: the declared one, else UTF-8 (BOM or not), else GB18030."""
    if declared and declared.lower() != "auto":
        enc = ENCODINGS.get(declared.lower().replace("_", "-"))
        if enc is None:
            raise SourceError(f"不支持的编码 {declared!r}（可用 utf-8、utf-8-sig、gb18030）/ unsupported encoding {declared!r}")
        return enc
    with open(path, "rb") as fh:
        head = fh.read(3)
    if head == b"\xef\xbb\xbf":
        return "utf-8-sig"
    decoder = _incremental("utf-8")
    with open(path, "rb") as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            return "gb18030"


def _incremental(enc: str):

    return codecs.getincrementaldecoder(enc)()


@dataclass
class TableFile:
    """A table read row by row: ``header`` (column names) and ``rows()``
    yielding ``(row_no, {column: text})``, row_no 1 = the first data row."""

    path: Path
    kind: str  # csv / xlsx
    encoding: str | None
    header: list[str]
    notes: list[str] = field(default_factory=list)  # about the file as a whole (Chinese)
    _open: object = None

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self._open()  # type: ignore[misc]


def open_table(path: Path, encoding: str | None = None, sheet: str | int | None = None, delimiter: str | None = None) -> TableFile:
    """Open a CSV (any of the encodings above) or an Excel ``.xlsx``/``.xlsm``/``.xls`` workbook."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"找不到文件 {path} / no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _open_excel(path, sheet)
    return _open_csv(path, encoding, delimiter)


def _clean_header(names: list[str]) -> list[str]:
    out, seen = [], {}
    for i, n in enumerate(names):
        n = (n or "").strip().lstrip("\ufeff") or f"列{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


def _open_csv(path: Path, encoding: str | None, delimiter: str | None) -> TableFile:
    enc = detect_encoding(path, encoding)
    with open(path, encoding=enc, newline="") as fh:
        sample = fh.read(64 * 1024)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), None)
    if not first:
        raise SourceError(f"文件 {path.name} 是空的 / the file is empty")
    header = _clean_header(first)
    t = TableFile(path, "csv", enc, header)
    t.notes.append(f"编码 {enc.upper()}" + ("（按文件声明）" if encoding and encoding != "auto" else "（自动识别）"))

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with open(path, encoding=enc, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader, None)
            for i, rec in enumerate(reader, start=1):
                if not any(v.strip() for v in rec):
                    continue  # a blank line is not a row
                if len(rec) < len(header):
                    rec = rec + [""] * (len(header) - len(rec))
                row = {h: rec[k] for k, h in enumerate(header)}
                if len(rec) > len(header):
                    row["(多余的列)"] = delimiter.join(rec[len(header):])
                yield i, row

    t._open = rows
    return t


def _excel_text(v: object) -> tuple[str, bool]:
    """A workbook cell as text, and whether Excel held it as a number."""
    if v is None:
        return "", False
    if isinstance(v, bool):
        return ("TRUE" if v else "FALSE"), False
    if isinstance(v, int):
        return str(v), True
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v)), True
        return repr(v), True
    if isinstance(v, datetime):
        return v.isoformat(sep=" "), False
    if isinstance(v, date):
        return v.isoformat(), False
    if isinstance(v, time):
        return v.isoformat(), False
    return str(v), False


def _open_excel(path: Path, sheet: str | int | None) -> TableFile:
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise SourceError(f"无法读取 Excel 文件 {path.name}：{exc} / cannot read the workbook") from exc
    names = wb.sheet_names
    if sheet is None or sheet == "":
        idx = 0
    elif isinstance(sheet, int) or str(sheet).isdigit():
        idx = int(sheet) - 1
    elif sheet in names:
        idx = names.index(sheet)
    else:
        raise SourceError(f"工作簿中没有工作表 {sheet!r}（有：{'、'.join(names)}）/ no such sheet")
    if not 0 <= idx < len(names):
        raise SourceError(f"工作簿只有 {len(names)} 个工作表 / the workbook has {len(names)} sheet(s)")
    ws = wb.get_sheet_by_index(idx)
    it = ws.iter_rows()
    first = next(it, None)
    if not first:
        raise SourceError(f"工作表 {names[idx]} 是空的 / the sheet is empty")
    header = _clean_header([_excel_text(v)[0] for v in first])
    t = TableFile(path, "xlsx", None, header)
    t.notes.append(f"Excel 工作表「{names[idx]}」")
    numeric: dict[str, str] = {}

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for i, rec in enumerate(ws.iter_rows(), start=0):
            if i == 0:
                continue
            row = {}
            for k, h in enumerate(header):
                text, was_number = _excel_text(rec[k] if k < len(rec) else None)
                if was_number and h not in numeric:
                    numeric[h] = text
                row[h] = text
            if any(v.strip() for v in row.values()):
                yield i, row
        for h, example in numeric.items():
            digits = sum(c.isdigit() for c in example)
            warn = "，超过 15 位的数字在 Excel 中已丢失末位精度" if digits > 15 else ""
            t.notes.append(f"列「{h}」在 Excel 中已存为数字（例 {example}）{warn}；请在 Excel 中把该列设为文本后重新导出")

    t._open = rows
    return t


# --- place features -------------------------------------------------------------


@dataclass
class Feature:
    index: int  # 1-based position in the file
    properties: dict[str, str]
    geometry: dict | None  # GeoJSON geometry, in the file's own coordinates


def read_features(path: Path, encoding: str | None = None) -> tuple[list[Feature], list[str]]:
    """Features of a GeoJSON, KML (or KMZ) or zipped Shapefile, and notes about the file."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"找不到文件 {path} / no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _read_geojson(path)
    if suffix == ".kml":
        return _read_kml(path.read_bytes()), ["KML"]
    if suffix == ".kmz":
        with zipfile.ZipFile(path) as z:
            kml = next((n for n in z.namelist() if n.lower().endswith(".kml")), None)
            if kml is None:
                raise SourceError("KMZ 中没有 .kml 文件 / the KMZ holds no .kml")
            return _read_kml(z.read(kml)), ["KMZ"]
    if suffix in (".zip", ".shp"):
        return _read_shapefile(path, encoding)
    raise SourceError(f"不支持的地块文件类型 {suffix}（可用 .geojson、.kml、.kmz、.zip 压缩的 Shapefile）/ unsupported file type")


def _text_props(props: dict | None) -> dict[str, str]:
    out = {}
    for k, v in (props or {}).items():
        if v is None:
            out[str(k)] = ""
        elif isinstance(v, (dict, list)):
            out[str(k)] = json.dumps(v, ensure_ascii=False)
        elif isinstance(v, float) and v.is_integer():
            out[str(k)] = str(int(v))
        else:
            out[str(k)] = str(v).strip()
    return out


def _read_geojson(path: Path) -> tuple[list[Feature], list[str]]:
    enc = detect_encoding(path)
    try:
        doc = json.loads(path.read_text(encoding=enc))
    except json.JSONDecodeError as exc:
        raise SourceError(f"GeoJSON 格式错误（第 {exc.lineno} 行）：{exc.msg} / malformed GeoJSON") from exc
    notes = ["GeoJSON"]
    if isinstance(doc, dict) and doc.get("crs"):
        notes.append(f"文件自带旧式 crs 声明 {json.dumps(doc['crs'], ensure_ascii=False)[:80]}；以命令行声明的 --crs 为准")
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        items = doc.get("features") or []
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [doc]
    elif isinstance(doc, dict) and "coordinates" in doc:
        items = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise SourceError("GeoJSON 中没有要素（需要 FeatureCollection、Feature 或几何对象）/ no features found")
    return [Feature(i, _text_props(f.get("properties")), f.get("geometry")) for i, f in enumerate(items, start=1)], notes


_KML_NS = "{http://www.opengis.net/kml/2.2}"


def _kml_coords(text: str | None) -> list[list[float]]:
    pts = []
    for tok in (text or "").split():
        parts = tok.split(",")
        if len(parts) >= 2:
            pts.append([float(parts[0]), float(parts[1])])
    return pts


def _strip_ns(root: ElementTree.Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def _read_kml(data: bytes) -> list[Feature]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SourceError(f"KML 格式错误：{exc} / malformed KML") from exc
    _strip_ns(root)
    out = []
    for i, pm in enumerate(root.iter("Placemark"), start=1):
        props: dict[str, str] = {}
        name = pm.find("name")
        if name is not None and name.text:
            props["name"] = name.text.strip()
        desc = pm.find("description")
        if desc is not None and desc.text:
            props["description"] = desc.text.strip()
        for sd in pm.iter("SimpleData"):
            props[sd.get("name", "")] = (sd.text or "").strip()
        for d in pm.iter("Data"):
            v = d.find("value")
            props[d.get("name", "")] = (v.text or "").strip() if v is not None else ""
        polys = []
        for poly in pm.iter("Polygon"):
            outer = poly.find("outerBoundaryIs/LinearRing/coordinates")
            rings = [_kml_coords(outer.text if outer is not None else "")]
            rings += [_kml_coords(c.text) for c in poly.findall("innerBoundaryIs/LinearRing/coordinates")]
            polys.append(rings)
        geom = None
        if len(polys) == 1:
            geom = {"type": "Polygon", "coordinates": polys[0]}
        elif polys:
            geom = {"type": "MultiPolygon", "coordinates": polys}
        out.append(Feature(i, props, geom))
    return out


def _read_shapefile(path: Path, encoding: str | None) -> tuple[list[Feature], list[str]]:
    notes = ["Shapefile"]
    members: dict[str, bytes] = {}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            shps = [n for n in names if n.lower().endswith(".shp")]
            if not shps:
                raise SourceError("压缩包中没有 .shp 文件 / the zip holds no .shp")
            if len(shps) > 1:
                notes.append(f"压缩包中有 {len(shps)} 个 .shp，读取第一个 {shps[0]}")
            stem = shps[0][:-4]
            for n in names:
                if n[: len(stem)] == stem and n[len(stem):].lower() in (".shp", ".shx", ".dbf", ".cpg", ".prj"):
                    members[n[len(stem):].lower()] = z.read(n)
    else:
        for ext in (".shp", ".shx", ".dbf", ".cpg", ".prj"):
            p = path.with_suffix(ext)
            if p.exists():
                members[ext] = p.read_bytes()
    if ".dbf" not in members:
        raise SourceError("Shapefile 缺少 .dbf 属性表 / the Shapefile has no .dbf")
    enc = None
    if encoding and encoding.lower() != "auto":
        enc = ENCODINGS.get(encoding.lower().replace("_", "-"))
        if enc is None:
            raise SourceError(f"不支持的编码 {encoding!r}（可用 utf-8、gb18030）/ unsupported encoding {encoding!r}")
    elif ".cpg" in members:
        cpg = members[".cpg"].decode("ascii", "replace").strip().lower()
        enc = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "gbk": "gb18030", "936": "gb18030", "cp936": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}.get(cpg)
        if enc:
            notes.append(f"属性表编码 {enc.upper()}（.cpg 声明）")
    if enc is None:
        try:
            members[".dbf"].decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            enc = "gb18030"
        notes.append(f"属性表编码 {enc.upper()}（自动识别）")
    if ".prj" in members:
        notes.append("文件带有 .prj 坐标系说明；以命令行声明的 --crs 为准：" + members[".prj"].decode("latin-1")[:60])
    reader = shapefile.Reader(
        shp=io.BytesIO(members[".shp"]) if ".shp" in members else None,
        shx=io.BytesIO(members[".shx"]) if ".shx" in members else None,
        dbf=io.BytesIO(members[".dbf"]),
        encoding=enc,
        encodingErrors="replace",
    )
    fields = [f[0] for f in reader.fields[1:]]
    out = []
    for i, sr in enumerate(reader.iterShapeRecords(), start=1):
        props = _text_props(dict(zip(fields, list(sr.record))))
        geom = sr.shape.__geo_interface__ if sr.shape.shapeType != shapefile.NULL else None
        out.append(Feature(i, props, geom))
    return out, notes
