"""The demo world: a seeded, deterministic 警网融合 history for one station or a district.

``python -m dashboard.demo --scale station|district --seed N [--replace]``
writes it into ``DATABASE_URL`` (default: the embedded SQLite file).

Shapes come from press reports on community policing under the new-era
枫桥经验 (the 警网融合 command room of 五里亭派出所): 五里亭派出所 with 6
communities, ~40 grids, 46 compounds, 20 民警 + 23 辅警, ~300 grid workers of
14 kinds, 一标三实 base data (58,000 residents, 5,700 houses, 1,626 units), ~18
incidents a day declining year on year (盗窃 −35 %, 入室盗窃 −42 %, 电诈 −50 %,
接触类 −60 % …), ~45 grid reports a day feeding the dispatch loop, ~3 disputes
a day through three-level mediation, 8 patrol teams on day and night shifts
with GPS tracks for the last 90 days.

Everything is drawn from ``numpy.random.default_rng`` streams keyed by
(seed, stage, station), iterated in fixed orders: the same seed, scale,
months and end give identical rows. Times are written as naive UTC; every
daily and weekly rhythm is laid out in local time (Asia/Shanghai, UTC+8:
``LOCAL_OFFSET``; the demo is a station in China whatever the station file says).

Geometry: each station is an 8×5 lattice of quadrilateral grids. Interior
lattice vertices are jittered, vertices on station borders only along the
border, so neighbouring grids share vertices exactly and the grids tile the
station (and the stations tile the district) with no gaps or overlaps. Points
are sampled inside a quad by bilinear interpolation and every located row gets
the grid ``GridLocator`` finds for it, so the stored grid_id always agrees with
the stored polygons.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dashboard.config import load_settings
from dashboard.db import schema
from dashboard.db.database import describe_url, make_writer, translate_error
from dashboard.db.migrate import upgrade
from dashboard.geo import KM_PER_DEG, GridLocator, h3_cell, h3_cells, polygon_geojson, ring_area_km2, ring_centroid
from dashboard.timeutil import shift_months, utcnow
from dashboard.writers.bulk import bulk_insert, reset_sequences
from dashboard.writers.world import (
    BRANCH,
    CAMERA_KIND_W,
    CENTER,
    COLLECTOR_W,
    COMMUNITY_BLOCKS,
    COMMUNITY_STEMS,
    COMPOUND_STEMS,
    COMPOUND_SUFFIXES,
    DAY,
    DEADLINE_DEPT,
    DEADLINE_OFFICER,
    DEPARTMENTS,
    DEPT_TITLES,
    DISPUTE_KIND_W,
    DISPUTE_REASONS,
    DISPUTE_SUMMARIES,
    DISPUTE_SUMMARY_REASONS,
    DISTRICT_COLS,
    FEEDBACK_TEXTS,
    GX,
    GY,
    HOTSPOT_KINDS,
    INCIDENT_CATS,
    INCIDENT_OUTCOMES,
    INCIDENT_SUBTYPES,
    JITTER,
    LOCAL_OFFSET,
    NEVER,
    NO_ARRIVAL,
    NULL_T,
    PATROL_DAYS,
    PATROL_STEP_S,
    REPORT_CATS,
    REPORT_HOURS,
    REPORT_TEMPLATES,
    REPORTER_W,
    S_BASE,
    S_CAMERAS,
    S_DISPUTES,
    S_INCIDENTS,
    S_LAYOUT,
    S_NAMES,
    S_PATROL,
    S_PEOPLE,
    S_PLACES,
    S_REPORTS,
    S_TASKS,
    STATION_H_KM,
    STATION_W_KM,
    STATIONS,
    STREET_STEMS,
    STREET_SUFFIXES,
    URGENCY_P,
    WEEKDAY_PROFILES,
    WORK_HOURS,
    WORKER_KIND_W,
    WULITING_COMMUNITIES,
    YEAR,
    epoch_seconds,
    hour_profile,
    id_number,
    local_hour,
    local_weekday,
    lognormal_seconds,
    person_names,
    phone_numbers,
    poisson_times,
    seasonal,
    seeded_rng,
    to_datetimes,
)

SCALES = {"station": 1, "district": 10}

# --- errors and the summary ---------------------------------------------------------


class DemoRefused(Exception):
    """The target database already holds data and ``replace`` was not asked for."""

    def __init__(self, en: str, zh: str):
        super().__init__(en)
        self.en = en
        self.zh = zh


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]  # rows written per table, in schema.ALL_TABLES order
    seconds: float
    scale: str
    seed: int
    end: datetime  # the world's "now" (naive UTC)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        return (
            f"demo world scale={self.scale} seed={self.seed} end={self.end:%Y-%m-%dT%H:%M} UTC: "
            f"{self.total_rows} rows ({parts}) in {self.seconds:.1f} s"
        )


# --- the world ------------------------------------------------------------------------


@dataclass
class _Station:
    idx: int
    name: str
    code: str
    grids: list[int] = field(default_factory=list)  # global grid indexes
    communities: list[int] = field(default_factory=list)  # global community indexes
    streets: list[str] = field(default_factory=list)
    hotspots: list[dict] = field(default_factory=list)
    command_staff: list[str] = field(default_factory=list)  # 指挥室 officers' names
    officer_ids: list[int] = field(default_factory=list)


class _World:
    """Builds the rows; holds them as columns (numpy arrays and lists) until written."""

    def __init__(self, scale: str, seed: int, start: datetime, end: datetime):
        self.scale = scale
        self.seed = seed
        self.start_dt, self.end_dt = start, end
        self.start, self.end = epoch_seconds(start), epoch_seconds(end)
        n_slots = math.ceil((self.end - self.start) / 3600)
        self.slots = self.start + 3600 * np.arange(n_slots, dtype=np.int64)
        self.n_stations = SCALES[scale]

    # ----- places

    def build_places(self) -> None:
        rng = seeded_rng(self.seed, S_LAYOUT)
        ns = self.n_stations
        ncols = min(ns, DISTRICT_COLS)
        nrows = math.ceil(ns / DISTRICT_COLS)
        NX, NY = ncols * GX, nrows * GY
        cos0 = math.cos(math.radians(CENTER[0]))
        dx = STATION_W_KM / GX / (KM_PER_DEG * cos0)
        dy = STATION_H_KM / GY / KM_PER_DEG
        lon0 = CENTER[1] - GX * dx / 2
        lat0 = CENTER[0] - GY * dy / 2
        I, J = np.meshgrid(np.arange(NX + 1), np.arange(NY + 1), indexing="ij")  # noqa: E741 - the lattice indices, named as in the maths
        jx = rng.uniform(-JITTER, JITTER, I.shape) * (I % GX != 0)
        jy = rng.uniform(-JITTER, JITTER, I.shape) * (J % GY != 0)
        vx = np.round(lon0 + (I + jx) * dx, 7)
        vy = np.round(lat0 + (J + jy) * dy, 7)
        self.vx, self.vy = vx, vy

        names_rng = seeded_rng(self.seed, S_NAMES)
        stems = list(COMMUNITY_STEMS)
        order = names_rng.permutation(len(stems)).tolist()
        stem_pool = [stems[i] for i in order]
        street_pool = [STREET_STEMS[i // len(STREET_SUFFIXES)] + STREET_SUFFIXES[i % len(STREET_SUFFIXES)] for i in names_rng.permutation(len(STREET_STEMS) * len(STREET_SUFFIXES)).tolist()]

        self.stations: list[_Station] = []
        st_rows, cm_rows, gr_rows = [], [], []
        quads, g_station, g_comm, g_names, g_codes, g_ij = [], [], [], [], [], []
        self.comm_names: list[str] = []
        self.comm_station: list[int] = []
        for s in range(ns):
            name, code = STATIONS[s]
            st = _Station(s, name + "派出所", code)
            sc, sr = s % DISTRICT_COLS, s // DISTRICT_COLS
            if s == 0:
                cnames = list(WULITING_COMMUNITIES)
            else:
                cnames = [name] + [stem_pool.pop(0) for _ in range(len(COMMUNITY_BLOCKS) - 1)]
            st.streets = [street_pool.pop(0) for _ in range(10)]
            for c, ((i0, i1), (j0, j1)) in enumerate(COMMUNITY_BLOCKS):
                ci = len(self.comm_names)
                st.communities.append(ci)
                self.comm_names.append(cnames[c] + "社区")
                self.comm_station.append(s)
                ccode = f"{code}-C{c + 1:02d}"
                n = 0
                for j in range(j1 - 1, j0 - 1, -1):  # north to south
                    for i in range(i0, i1):  # west to east
                        n += 1
                        gi, gj = sc * GX + i, sr * GY + j
                        q = np.array(
                            [
                                [vx[gi, gj], vy[gi, gj]],
                                [vx[gi + 1, gj], vy[gi + 1, gj]],
                                [vx[gi + 1, gj + 1], vy[gi + 1, gj + 1]],
                                [vx[gi, gj + 1], vy[gi, gj + 1]],
                            ]
                        )
                        st.grids.append(len(quads))
                        g_ij.append((gi, gj))
                        quads.append(q)
                        g_station.append(s)
                        g_comm.append(ci)
                        g_names.append(f"{cnames[c]}社区第{n}网格")
                        g_codes.append(f"{ccode}-G{n:02d}")
                cm_rows.append([ci + 1, s + 1, ccode, cnames[c] + "社区"])
            self.stations.append(st)
        self.quads = np.asarray(quads)  # (G, 4, 2) lon/lat, counter-clockwise
        assert all(_convex(q) for q in self.quads), "jitter produced a non-convex grid"
        self.g_i = np.asarray([ij[0] for ij in g_ij])
        self.g_j = np.asarray([ij[1] for ij in g_ij])
        self.g_station = np.asarray(g_station)
        self.g_comm = np.asarray(g_comm)
        G = len(quads)
        self.G = G
        self.g_geojson = [polygon_geojson(q.tolist()) for q in self.quads]
        self.locator = GridLocator(zip(range(1, G + 1), self.g_geojson))
        self.g_area = np.array([ring_area_km2(q.tolist()) for q in self.quads])
        cents = [ring_centroid(q.tolist()) for q in self.quads]
        self.g_clat = np.array([c[0] for c in cents])
        self.g_clon = np.array([c[1] for c in cents])

        # Population weight per grid (lognormal around equal density), compounds, hot spots, streets.
        prng = seeded_rng(self.seed, S_PLACES)
        self.g_weight = self.g_area * np.exp(0.5 * prng.standard_normal(G))
        self._build_compounds(prng)
        self._build_hotspots(prng)
        self._build_base_places(prng)

        # Rows for the place tables.
        for st in self.stations:
            gs = np.asarray(st.grids)
            w = self.g_area[gs]
            st_rows.append((st.idx + 1, st.code, st.name, BRANCH, float(np.average(self.g_clat[gs], weights=w)), float(np.average(self.g_clon[gs], weights=w))))
        comm_rows = []
        for ci, r in enumerate(cm_rows):
            gs = np.nonzero(self.g_comm == ci)[0]
            w = self.g_area[gs]
            comm_rows.append((r[0], r[1], r[2], r[3], float(np.average(self.g_clat[gs], weights=w)), float(np.average(self.g_clon[gs], weights=w))))
        for g in range(G):
            gr_rows.append(
                (
                    g + 1,
                    int(self.g_comm[g]) + 1,
                    g_codes[g],
                    g_names[g],
                    self.g_geojson[g],
                    float(round(self.g_area[g], 6)),
                    float(self.g_clat[g]),
                    float(self.g_clon[g]),
                    h3_cell(self.g_clat[g], self.g_clon[g]),
                    int(self.g_population[g]),
                )
            )
        self.g_names = g_names
        self.rows_stations = st_rows
        self.rows_communities = comm_rows
        self.rows_grids = gr_rows

    def sample_in_grids(self, rng: np.random.Generator, g: np.ndarray, margin: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
        """Uniform-ish points strictly inside the given grids (bilinear (u, v) in the quad)."""
        n = len(g)
        u = rng.uniform(margin, 1 - margin, n)[:, None]
        v = rng.uniform(margin, 1 - margin, n)[:, None]
        q = self.quads[g]
        p = (1 - u) * (1 - v) * q[:, 0] + u * (1 - v) * q[:, 1] + u * v * q[:, 2] + (1 - u) * v * q[:, 3]
        return p[:, 1].copy(), p[:, 0].copy()

    def locate(
        self,
        rng: np.random.Generator,
        lat: np.ndarray,
        lon: np.ndarray,
        want: np.ndarray | None = None,
        fallback: np.ndarray | None = None,
    ) -> np.ndarray:
        """Grid index (0-based) of each point, found with the GridLocator.

        Points outside ``want`` (when given) or outside every grid are moved, in
        place, to a bilinear sample inside ``want`` (or ``fallback``).
        """
        got = self.locator.locate_many(lat, lon) - 1
        target_all = want if want is not None else fallback
        assert target_all is not None
        for _ in range(10):
            bad = got < 0 if want is None else got != want
            if not bad.any():
                return got
            idx = np.nonzero(bad)[0]
            target = target_all[idx]
            la, lo = self.sample_in_grids(rng, target, margin=0.05)
            lat[idx], lon[idx] = la, lo
            got[idx] = self.locator.locate_many(la, lo) - 1
        raise AssertionError("could not place points inside their grids")

    def _offset(self, lat: np.ndarray, lon: np.ndarray, sigma_m: np.ndarray | float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n = len(lat)
        s = np.broadcast_to(np.asarray(sigma_m, dtype=float), (n,))
        dlat = rng.standard_normal(n) * s / 1000 / KM_PER_DEG
        dlon = rng.standard_normal(n) * s / 1000 / (KM_PER_DEG * math.cos(math.radians(CENTER[0])))
        return lat + dlat, lon + dlon

    def _build_compounds(self, rng: np.random.Generator) -> None:
        rows = []
        self.g_compounds: list[list[int]] = [[] for _ in range(self.G)]
        self.cp_name: list[str] = []
        self.cp_lat: list[float] = []
        self.cp_lon: list[float] = []
        self.cp_buildings: list[int] = []
        combos = [a + b for a in COMPOUND_STEMS for b in COMPOUND_SUFFIXES]
        for st in self.stations:
            gs = np.asarray(st.grids)
            n = 46
            per = rng.multinomial(n, self.g_weight[gs] / self.g_weight[gs].sum())
            names = [combos[i] for i in rng.choice(len(combos), n, replace=False).tolist()]
            k = 0
            for g, m in zip(gs.tolist(), per.tolist()):
                for _ in range(m):
                    u, v = rng.uniform(0.15, 0.85, 2)
                    q = self.quads[g]
                    p = (1 - u) * (1 - v) * q[0] + u * (1 - v) * q[1] + u * v * q[2] + (1 - u) * v * q[3]
                    lat, lon = float(p[1]), float(p[0])
                    assert self.locator.locate(lat, lon) == g + 1
                    households = int(rng.integers(200, 2400))
                    buildings = int(max(3, households // int(rng.integers(40, 90))))
                    cid = len(self.cp_name) + 1
                    rows.append((cid, g + 1, names[k], households, buildings, lat, lon, h3_cell(lat, lon)))
                    self.g_compounds[g].append(cid - 1)
                    self.cp_name.append(names[k])
                    self.cp_lat.append(lat)
                    self.cp_lon.append(lon)
                    self.cp_buildings.append(buildings)
                    k += 1
        self.rows_compounds = rows

    def _build_hotspots(self, rng: np.random.Generator) -> None:
        for st in self.stations:
            k = int(rng.integers(3, 6))
            kinds = rng.choice(len(HOTSPOT_KINDS), k, replace=False).tolist()
            grids = rng.choice(np.asarray(st.grids), k, replace=False).tolist()
            neglected = int(rng.integers(0, k))  # patrols rarely go there: the coverage gap
            for n, (kind, g) in enumerate(zip(kinds, grids)):
                label, affinity, patrol = HOTSPOT_KINDS[kind]
                u, v = rng.uniform(0.3, 0.7, 2)
                q = self.quads[g]
                p = (1 - u) * (1 - v) * q[0] + u * (1 - v) * q[1] + u * v * q[2] + (1 - u) * v * q[3]
                comm = self.comm_names[int(self.g_comm[g])].removesuffix("社区")
                st.hotspots.append(
                    {
                        "name": f"{comm}{label}",
                        "lat": float(p[1]),
                        "lon": float(p[0]),
                        "sigma_m": float(rng.uniform(150, 300)),
                        "affinity": affinity,
                        "patrol": (0.0, 0.0) if n == neglected else patrol,
                        "strength": float(rng.uniform(0.7, 1.3)),
                    }
                )

    def _build_base_places(self, rng: np.random.Generator) -> None:
        """一标三实 addresses and the grid of every record; sets grid populations."""
        self.base_grid: list[np.ndarray] = []
        self.base_kind: list[np.ndarray] = []
        self.base_h3: list[list[str]] = []
        pop = np.zeros(self.G, dtype=np.int64)
        for st in self.stations:
            gs = np.asarray(st.grids)
            p = self.g_weight[gs] / self.g_weight[gs].sum()
            scale = 1.0 if st.idx == 0 else float(rng.uniform(0.85, 1.15))
            n_addr = int(6000 * scale) + int(rng.integers(0, 300))
            counts = {
                "标准地址": n_addr,
                "实有人口": int(58000 * scale) + int(rng.integers(0, 900)),
                "实有房屋": int(5700 * scale) + int(rng.integers(0, 150)),
                "实有单位": 1626 if st.idx == 0 else int(1626 * scale),
            }
            a_grid = gs[rng.choice(len(gs), n_addr, p=p)]
            a_grid.sort(kind="stable")
            a_lat, a_lon = self.sample_in_grids(rng, a_grid)
            a_grid = self.locate(rng, a_lat, a_lon, want=a_grid)
            a_h3 = h3_cells(a_lat, a_lon)
            # Addresses per grid, to hang people, houses and units on.
            first = np.searchsorted(a_grid, gs, side="left")
            last = np.searchsorted(a_grid, gs, side="right")
            for kind_i, kind in enumerate(schema.BASE_RECORD_KINDS):
                if kind == "标准地址":
                    idx = np.arange(n_addr)
                else:
                    gpick = rng.choice(len(gs), counts[kind], p=p)
                    lo, hi = first[gpick], last[gpick]
                    empty = hi <= lo
                    if empty.any():  # a grid without an address: fall back to any address
                        lo, hi = np.where(empty, 0, lo), np.where(empty, n_addr, hi)
                    idx = lo + (rng.random(counts[kind]) * (hi - lo)).astype(np.int64)
                self.base_grid.append(a_grid[idx])
                self.base_kind.append(np.full(len(idx), kind_i))
                self.base_h3.append([a_h3[i] for i in idx.tolist()])
                if kind == "实有人口":
                    pop += np.bincount(a_grid[idx], minlength=self.G)
        self.g_population = np.round(pop * rng.uniform(1.0, 1.06, self.G)).astype(np.int64)

    # ----- people

    def build_people(self) -> None:
        rng = seeded_rng(self.seed, S_PEOPLE)
        off_rows, gw_rows = [], []
        self.comm_officer: dict[int, int] = {}  # community -> 社区民警 officer id
        self.officer_name: dict[int, str] = {}
        n_police = n_aux = 0
        for st in self.stations:
            names = person_names(rng, 43)
            phones = phone_numbers(rng, 43)
            k = 0
            plan = []
            for ci in st.communities:
                plan += [("民警", ci), ("辅警", ci), ("辅警", ci)]
            n_comm_police = len(st.communities)
            plan += [("民警", None)] * (20 - n_comm_police)
            plan += [("辅警", None)] * (23 - 2 * len(st.communities))
            for role, ci in plan:
                oid = len(off_rows) + 1
                if role == "民警":
                    n_police += 1
                    badge = f"{351200 + n_police * 7:06d}"
                else:
                    n_aux += 1
                    badge = f"FJ{20000 + n_aux:05d}"
                off_rows.append((oid, st.idx + 1, None if ci is None else ci + 1, names[k], badge, role, phones[k]))
                self.officer_name[oid] = names[k]
                st.officer_ids.append(oid)
                if role == "民警" and ci is not None:
                    self.comm_officer[ci] = oid
                elif role == "民警" and len(st.command_staff) < 4:
                    st.command_staff.append(names[k])
                k += 1
        self.rows_officers = off_rows

        kinds = schema.GRID_WORKER_KINDS
        p = WORKER_KIND_W / WORKER_KIND_W.sum()
        self.w_grid: list[int] = []
        self.w_kind: list[str] = []
        self.w_name: list[str] = []
        self.g_workers: list[list[int]] = [[] for _ in range(self.G)]
        for g in range(self.G):
            n = 4 + int(rng.poisson(3.5))
            ks = ["网格长", "网格员", "网格员"] + [kinds[i] for i in rng.choice(len(kinds), n - 3, p=p).tolist()]
            m = self.stations[int(self.g_station[g])].grids.index(g)
            if m < len(kinds):  # the station's m-th grid has one worker of kind m: all 14 kinds everywhere
                ks[3] = kinds[m]
            names = person_names(rng, n)
            phones = phone_numbers(rng, n)
            active = (rng.random(n) < 0.95).tolist()
            for kind, name, phone, act in zip(ks, names, phones, active):
                wid = len(gw_rows) + 1
                gw_rows.append((wid, g + 1, name, kind, phone, bool(act)))
                self.w_grid.append(g)
                self.w_kind.append(kind)
                self.w_name.append(name)
                self.g_workers[g].append(wid)
        self.rows_grid_workers = gw_rows
        self.rows_departments = [(i + 1, n, k) for i, (n, k) in enumerate(DEPARTMENTS)]
        self.dept_people = person_names(rng, len(DEPARTMENTS))

    def _pick_workers(self, rng: np.random.Generator, grids: np.ndarray, weights: dict[str, float], default: float) -> np.ndarray:
        """One grid worker (id) per entry of ``grids``, drawn from that grid's workers by kind weight."""
        out = np.zeros(len(grids), dtype=np.int64)
        order = np.argsort(grids, kind="stable")
        gs = grids[order]
        bounds = np.searchsorted(gs, np.arange(self.G + 1))
        for g in range(self.G):
            a, b = bounds[g], bounds[g + 1]
            if a == b:
                continue
            ws = self.g_workers[g]
            w = np.array([weights.get(self.w_kind[x - 1], default) for x in ws], dtype=float)
            out[order[a:b]] = np.asarray(ws)[rng.choice(len(ws), b - a, p=w / w.sum())]
        return out

    # ----- places as strings

    def _places(self, rng: np.random.Generator, grids: np.ndarray) -> list[str]:
        """'XX小区3号楼' or 'XX路128号' for each grid."""
        n = len(grids)
        r = rng.random(n).tolist()
        a = rng.random(n).tolist()
        num = rng.integers(1, 300, n).tolist()
        out = []
        for g, x, y, k in zip(grids.tolist(), r, a, num):
            cps = self.g_compounds[g]
            st = self.stations[int(self.g_station[g])]
            if cps and x < 0.6:
                c = cps[int(y * len(cps))]
                b = 1 + k % self.cp_buildings[c]
                out.append(f"{self.cp_name[c]}{b}号楼" if x < 0.5 else f"{self.cp_name[c]}{('东门', '南门', '北门', '中心广场', '地下车库')[k % 5]}")
            else:
                out.append(f"{st.streets[int(y * len(st.streets))]}{k}号")
        return out

    # ----- grid reports

    def build_reports(self) -> None:
        cats = schema.REPORT_CATEGORIES
        cat_p = np.array([REPORT_CATS[c][0] for c in cats])
        cat_p = cat_p / cat_p.sum()
        slots = self.slots
        mid = slots + 1800
        base = 42.0 / 24 * REPORT_HOURS[local_hour(mid)] * np.asarray(WEEKDAY_PROFILES["workday"])[local_weekday(mid)]
        base = base * seasonal(mid, 0.05) * 1.15 ** ((mid - self.end) / YEAR)  # reporting grows as the platform matures
        cols: dict[str, list] = {k: [] for k in ("t", "grid", "lat", "lon", "cat", "urg", "reporter", "place", "text", "source", "st")}
        for st in self.stations:
            rng = seeded_rng(self.seed, S_REPORTS, st.idx)
            t = poisson_times(rng, slots, base * rng.uniform(0.9, 1.1), self.end)
            n = len(t)
            gs = np.asarray(st.grids)
            gw = self.g_weight[gs] * np.exp(0.4 * rng.standard_normal(len(gs)))
            grid = gs[rng.choice(len(gs), n, p=gw / gw.sum())]
            cat = rng.choice(len(cats), n, p=cat_p)
            urg = np.zeros(n, dtype=np.int64)
            for ci, c in enumerate(cats):
                m = cat == ci
                urg[m] = rng.choice(3, int(m.sum()), p=URGENCY_P[c])
            # Location: near one of the grid's compounds or anywhere in the grid.
            lat, lon = self.sample_in_grids(rng, grid)
            near = rng.random(n) < 0.5
            pick = rng.random(n)
            for i in np.nonzero(near)[0].tolist():
                cps = self.g_compounds[grid[i]]
                if cps:
                    c = cps[int(pick[i] * len(cps))]
                    lat[i], lon[i] = self.cp_lat[c], self.cp_lon[c]
                else:
                    near[i] = False
            lat, lon = self._offset(lat, lon, np.where(near, 25.0, 0.0), rng)
            grid = self.locate(rng, lat, lon, want=grid)
            reporter = self._pick_workers(rng, grid, REPORTER_W, 1.0)
            places = self._places(rng, grid)
            texts = self._report_texts(rng, cat, places)
            source = np.where(rng.random(n) < 0.9, "网格通", "警民联系群").tolist()
            for k, v in (("t", t), ("grid", grid), ("lat", lat), ("lon", lon), ("cat", cat), ("urg", urg), ("reporter", reporter), ("st", np.full(n, st.idx))):
                cols[k].append(v)
            cols["place"].append(places)
            cols["text"].append(texts)
            cols["source"].append(source)
        self.rp = _concat_sorted(cols, key="t")
        self.rp["h3"] = h3_cells(self.rp["lat"], self.rp["lon"])

    def _report_texts(self, rng: np.random.Generator, cat: np.ndarray, places: list[str]) -> list[str]:
        n = len(cat)
        tpl_r = rng.random(n).tolist()
        rea = rng.integers(0, len(DISPUTE_REASONS), n).tolist()
        extra = rng.random(n).tolist()
        out = []
        for c, place, r, k, e in zip(cat.tolist(), places, tpl_r, rea, extra):
            name = schema.REPORT_CATEGORIES[c]
            tpls = REPORT_TEMPLATES[name]
            s = tpls[int(r * len(tpls))].format(place=place, reason=DISPUTE_REASONS[k])
            if e < 0.125:
                s += f"反映人联系电话{phone_numbers(rng, 1)[0]}。"
            elif e < 0.165:
                s += f"当事人身份证号{id_number(rng)}。"
            elif e < 0.175:
                s += f"当事人身份证号{id_number(rng)}，联系电话{phone_numbers(rng, 1)[0]}。"
            out.append(s)
        return out

    # ----- dispatch tasks and their events

    def build_tasks(self) -> None:
        rp = self.rp
        rng = seeded_rng(self.seed, S_TASKS)
        n_rep = len(rp["t"])
        cats = schema.REPORT_CATEGORIES
        take = rng.random(n_rep) < 0.90
        created = rp["t"] + np.maximum(60, lognormal_seconds(rng, 180, 0.6, n_rep))
        take &= created <= self.end
        ridx = np.nonzero(take)[0]
        created = created[ridx]
        order = np.argsort(created, kind="stable")
        ridx, created = ridx[order], created[order]
        n = len(ridx)
        cat = rp["cat"][ridx]
        urg = rp["urg"][ridx]
        grid = rp["grid"][ridx]

        p_dept = np.array([REPORT_CATS[c][1] for c in cats])[cat]
        to_dept = rng.random(n) < p_dept
        twice = to_dept & (rng.random(n) < 0.17)
        dept1 = np.full(n, -1)
        dept2 = np.full(n, -1)
        r1, r2 = rng.random(n), rng.random(n)
        for ci, c in enumerate(cats):
            opts = REPORT_CATS[c][2]
            m = (cat == ci) & to_dept
            if not opts or not m.any():
                continue
            dept1[m] = np.asarray(opts)[(r1[m] * len(opts)).astype(int)]
            alt = opts + [d for d in (0, 5, 8) if d not in opts]
            for i in np.nonzero(m & twice)[0].tolist():
                choices = [d for d in alt if d != dept1[i]]
                dept2[i] = choices[int(r2[i] * len(choices))]

        disp = created + np.maximum(60, lognormal_seconds(rng, np.array([1500, 600, 240])[urg], 0.7, n))
        disp2 = np.where(twice, disp + np.maximum(1800, lognormal_seconds(rng, 5 * 3600, 0.6, n)), disp)
        window = np.where(to_dept, np.array(DEADLINE_DEPT)[urg], np.array(DEADLINE_OFFICER)[urg])
        deadline1 = disp + window
        deadline2 = disp2 + window
        acc_med = np.where(to_dept, np.array([4 * 3600, 3600, 1200])[urg], np.array([1800, 900, 300])[urg])
        accept = disp2 + np.minimum(np.maximum(60, lognormal_seconds(rng, acc_med, 0.7, n)), window // 2)
        late = rng.random(n) < 0.065
        frac = rng.beta(1.6, 3.0, n)
        fb_on = accept + np.maximum(120, (frac * (deadline2 - accept)).astype(np.int64))
        fb_on = np.minimum(fb_on, deadline2 - 60)
        fb_late = deadline2 + np.maximum(300, (window * 0.08 * np.exp(0.9 * rng.standard_normal(n))).astype(np.int64))
        feedback = np.where(late, fb_late, fb_on)
        # A few stay stuck past their deadline (currently overdue at the end of the world).
        stuck = (deadline2 < self.end - 3600) & (deadline2 > self.end - 10 * DAY) & (rng.random(n) < 0.03)
        feedback = np.where(stuck, NEVER, feedback)
        close = feedback + np.maximum(300, lognormal_seconds(rng, 3 * 3600, 0.8, n))
        visited = rng.random(n) < 0.80
        visit = np.where(visited, close + np.maximum(3600, lognormal_seconds(rng, 1.5 * DAY, 0.6, n)), NEVER)
        satisfied = rng.random(n) < 0.96
        staff_r = rng.random((n, 3))
        people_r = rng.integers(0, len(DEPT_TITLES), n)
        fb_r = rng.random(n)

        end = self.end
        ev: dict[str, list] = {k: [] for k in ("task", "seq", "at", "event", "actor", "to_state", "officer", "dept", "deadline", "note")}
        tk: dict[str, list] = {k: [] for k in ("state", "officer", "dept", "dispatched", "deadline", "feedback", "closed", "visited", "satisfied", "transfers", "version", "updated")}
        stations = self.stations
        g_station = self.g_station.tolist()
        g_comm = self.g_comm.tolist()
        cols = [x.tolist() for x in (created, disp, disp2, deadline1, deadline2, accept, feedback, close, visit, cat, grid, to_dept, twice, dept1, dept2, satisfied, people_r, fb_r)]
        staff_l = staff_r.tolist()
        for k, (c_t, d_t, d2_t, dl1, dl2, a_t, f_t, cl_t, v_t, ca, g, td, tw, d1, d2, sat, pr, fr) in enumerate(zip(*cols)):
            st = stations[g_station[g]]
            staff = st.command_staff
            cmd = [f"指挥室 {staff[int(x * len(staff))]}" for x in staff_l[k]]
            comm = g_comm[g]
            off = self.comm_officer[comm]
            comm_label = f"{self.comm_names[comm].removesuffix('社区')}社区民警 {self.officer_name[off]}"
            cat_name = cats[ca]
            steps = [(c_t, "创建", cmd[0], "待研判", None, None, None, f"网格上报：{cat_name}")]
            if td:
                dn = DEPARTMENTS[d1][0]
                steps.append((d_t, "转派", cmd[1], "已派发", None, d1 + 1, dl1, f"转{dn}处置，请限时反馈"))
                cur_off, cur_dept, label = None, d1 + 1, f"{dn} {self.dept_people[d1][0]}{DEPT_TITLES[pr]}"
                if tw:
                    dn2 = DEPARTMENTS[d2][0]
                    steps.append((d2_t, "转派", cmd[1], "已派发", None, d2 + 1, dl2, f"{dn}反馈不属本部门职责，改派{dn2}"))
                    cur_dept, label = d2 + 1, f"{dn2} {self.dept_people[d2][0]}{DEPT_TITLES[pr]}"
            else:
                steps.append((d_t, "派发", cmd[1], "已派发", off, None, dl1, "请社区民警限时反馈处置情况"))
                cur_off, cur_dept, label = off, None, comm_label
            fbs = FEEDBACK_TEXTS[cat_name]
            steps.append((a_t, "签收", label, "处置中", cur_off, cur_dept, None, None))
            steps.append((f_t, "反馈", label, "已反馈", cur_off, cur_dept, None, fbs[int(fr * len(fbs))]))
            steps.append((cl_t, "办结", cmd[2], "已办结", None, None, None, None))
            steps.append((v_t, "回访", cmd[2], "已回访", None, None, None, "群众满意" if sat else "群众不满意，已再次沟通"))
            kept = [s for s in steps if s[0] <= end]
            tid = k + 1
            dispatched = deadline = fbk = closed = vis = NULL_T
            o_cur = d_cur = None
            transfers = 0
            for seq, (at, evn, actor, state, o, d, dl, note) in enumerate(kept, start=1):
                ev["task"].append(tid)
                ev["seq"].append(seq)
                ev["at"].append(at)
                ev["event"].append(evn)
                ev["actor"].append(actor)
                ev["to_state"].append(state)
                ev["officer"].append(o)
                ev["dept"].append(d)
                ev["deadline"].append(NULL_T if dl is None else dl)
                ev["note"].append(note)
                if evn in ("派发", "转派"):
                    if dispatched == NULL_T:
                        dispatched = at
                    deadline = dl
                    o_cur, d_cur = o, d
                    transfers += evn == "转派"
                elif evn == "反馈":
                    fbk = at
                elif evn == "办结":
                    closed = at
                elif evn == "回访":
                    vis = at
            last = kept[-1]
            tk["state"].append(last[3])
            tk["officer"].append(o_cur)
            tk["dept"].append(d_cur)
            tk["dispatched"].append(dispatched)
            tk["deadline"].append(deadline)
            tk["feedback"].append(fbk)
            tk["closed"].append(closed)
            tk["visited"].append(vis)
            tk["satisfied"].append(bool(sat) if vis != NULL_T else None)
            tk["transfers"].append(transfers)
            tk["version"].append(len(kept))
            tk["updated"].append(last[0])
        self.tk = {
            "report": ridx + 1,
            "grid": grid,
            "h3": [rp["h3"][i] for i in ridx.tolist()],
            "cat": cat,
            "urg": urg,
            "created": created,
            **{k: (np.asarray(v, dtype=np.int64) if k in ("dispatched", "deadline", "feedback", "closed", "visited", "updated") else v) for k, v in tk.items()},
        }
        ev_at = np.asarray(ev["at"], dtype=np.int64)
        order = np.lexsort((np.asarray(ev["seq"]), np.asarray(ev["task"]), ev_at))
        self.ev = {k: ([v[i] for i in order.tolist()] if isinstance(v, list) else v[order]) for k, v in ev.items()}
        self.ev["at"] = ev_at[order]
        self.ev["deadline"] = np.asarray(self.ev["deadline"], dtype=np.int64)

    # ----- disputes

    def build_disputes(self) -> None:
        rng = seeded_rng(self.seed, S_DISPUTES)
        rp = self.rp
        kinds = schema.DISPUTE_KINDS
        # Half come from 矛盾纠纷 reports (same place), the rest found by other means.
        is_dispute = np.nonzero(rp["cat"] == schema.REPORT_CATEGORIES.index("矛盾纠纷"))[0]
        linked = is_dispute[rng.random(len(is_dispute)) < 0.2]
        found_l = rp["t"][linked] + np.maximum(60, lognormal_seconds(rng, 1200, 0.6, len(linked)))
        keep = found_l < self.end
        linked, found_l = linked[keep], found_l[keep]
        mid = self.slots + 1800
        rate = 1.4 / 24 * REPORT_HOURS[local_hour(mid)]
        parts = {"t": [found_l], "grid": [rp["grid"][linked]], "report": [linked + 1], "lat": [rp["lat"][linked]], "lon": [rp["lon"][linked]], "place": [[rp["place"][i] for i in linked.tolist()]]}
        for st in self.stations:
            srng = seeded_rng(self.seed, S_DISPUTES, st.idx)
            t = poisson_times(srng, self.slots, rate, self.end)
            gs = np.asarray(st.grids)
            g = gs[srng.choice(len(gs), len(t), p=self.g_weight[gs] / self.g_weight[gs].sum())]
            lat, lon = self.sample_in_grids(srng, g)
            parts["t"].append(t)
            parts["grid"].append(g)
            parts["report"].append(np.zeros(len(t), dtype=np.int64))
            parts["lat"].append(lat)
            parts["lon"].append(lon)
            parts["place"].append(self._places(srng, g))
        d = _concat_sorted(parts, key="t")
        n = len(d["t"])
        d["grid"] = self.locate(rng, d["lat"], d["lon"], want=d["grid"])
        d["h3"] = h3_cells(d["lat"], d["lon"])
        kind = rng.choice(len(kinds), n, p=DISPUTE_KIND_W / DISPUTE_KIND_W.sum())
        # Level reached: 70 % settled by the grid worker, 20 % by the officer, 10 % go to level 3.
        reach = rng.choice([1, 2, 3], n, p=[0.7, 0.2, 0.1])
        final_ok = np.where(reach < 3, True, rng.random(n) < 0.6)  # overall ~96 % 化解
        parties = np.where(kind == kinds.index("劳资纠纷"), rng.integers(2, 9, n), np.where(rng.random(n) < 0.85, 2, 3))
        durations = {1: (3 * 3600, 0.9 * DAY), 2: (None, 2 * DAY), 3: (None, 7 * DAY)}  # (delay before, duration)
        gap = {1: lognormal_seconds(rng, durations[1][0], 0.6, n)}
        dur = {lvl: np.maximum(1800, lognormal_seconds(rng, durations[lvl][1], 0.7, n)) for lvl in (1, 2, 3)}
        summ_r = rng.random((n, 2)).tolist()
        med_r = rng.random((n, 3)).tolist()
        visit_p = rng.random(n).tolist()
        visit_gap = np.maximum(3600, lognormal_seconds(rng, 4 * DAY, 0.4, n)).tolist()
        sat = (rng.random(n) < 0.97).tolist()
        mediators3 = person_names(rng, 12)
        steps = {k: [] for k in ("dispute", "level", "mediator", "started", "ended", "outcome")}
        out = {k: [] for k in ("level", "status", "closed", "due", "visited", "satisfied", "summary", "parties", "kind")}
        end = self.end
        for i in range(n):
            g = int(d["grid"][i])
            kname = kinds[int(kind[i])]
            tpls = DISPUTE_SUMMARIES[kname]
            reasons = DISPUTE_SUMMARY_REASONS.get(kname, [""])
            out["summary"].append(f"{d['place'][i]}：" + tpls[int(summ_r[i][0] * len(tpls))].format(r=reasons[int(summ_r[i][1] * len(reasons))]))
            out["kind"].append(kname)
            out["parties"].append(int(parties[i]))
            workers = self.g_workers[g]
            comm = int(self.g_comm[g])
            names = {
                1: f"网格员 {self.w_name[workers[int(med_r[i][0] * len(workers))] - 1]}",
                2: f"社区民警 {self.officer_name[self.comm_officer[comm]]}",
                3: f"{('司法所', '律师', '人民调解员')[int(med_r[i][1] * 3)]} {mediators3[int(med_r[i][2] * 12)]}",
            }
            t = int(d["t"][i])
            level = 1
            status, closed = "调处中", NULL_T
            # First try by the grid worker (at once if the world ends before the usual delay);
            # each escalation starts the next level at once.
            s0 = t + int(gap[1][i])
            if s0 > end:
                s0 = t
            for lvl in range(1, int(reach[i]) + 1):
                if s0 > end:
                    break
                e0 = s0 + int(dur[lvl][i])
                level = lvl
                last = lvl == reach[i]
                outcome = ("化解" if final_ok[i] else "未化解") if last else "升级"
                steps["dispute"].append(i + 1)
                steps["level"].append(lvl)
                steps["mediator"].append(names[lvl])
                steps["started"].append(s0)
                if e0 > end:
                    steps["ended"].append(NULL_T)
                    steps["outcome"].append(None)
                    break
                steps["ended"].append(e0)
                steps["outcome"].append(outcome)
                s0 = e0
                if last:
                    status, closed = outcome, e0
            out["level"].append(level)
            out["status"].append(status)
            out["closed"].append(closed)
            if closed != NULL_T:
                due = closed + 7 * DAY
                v = closed + visit_gap[i]
                visited = v if (v <= end and visit_p[i] < 0.92) else NULL_T
                out["due"].append(due)
                out["visited"].append(visited)
                out["satisfied"].append(sat[i] if visited != NULL_T else None)
            else:
                out["due"].append(NULL_T)
                out["visited"].append(NULL_T)
                out["satisfied"].append(None)
        d.update(out)
        for k in ("closed", "due", "visited"):
            d[k] = np.asarray(d[k], dtype=np.int64)
        self.dp = d
        # Mediation steps in time order.
        started = np.asarray(steps["started"], dtype=np.int64)
        order = np.lexsort((np.asarray(steps["level"]), np.asarray(steps["dispute"]), started))
        self.ms = {k: [v[j] for j in order.tolist()] for k, v in steps.items()}
        self.ms["started"] = started[order]
        self.ms["ended"] = np.asarray(self.ms["ended"], dtype=np.int64)

    # ----- incidents

    def build_incidents(self) -> None:
        cats = schema.INCIDENT_CATEGORIES
        mid = self.slots + 1800
        lh, wd = local_hour(mid), local_weekday(mid)
        season = seasonal(mid, 0.15)
        parts: dict[str, list] = {k: [] for k in ("t", "cat", "lat", "lon", "hot", "bg")}
        for st in self.stations:
            rng = seeded_rng(self.seed, S_INCIDENTS, st.idx)
            gs = np.asarray(st.grids)
            gp = self.g_weight[gs] / self.g_weight[gs].sum()
            hs = st.hotspots
            for ci, c in enumerate(cats):
                now, yoy, (hb, bumps), wdp, hot_share = INCIDENT_CATS[c]
                prof = hour_profile(hb, bumps)
                rate = now / 24 * prof[lh] * np.asarray(WEEKDAY_PROFILES[wdp])[wd] * season * (1 + yoy) ** ((mid - self.end) / YEAR)
                t = poisson_times(rng, self.slots, rate * rng.uniform(0.9, 1.1), self.end)
                n = len(t)
                aff = np.array([h["affinity"].get(c, 0) * h["strength"] for h in hs], dtype=float)
                hot = (rng.random(n) < hot_share) if aff.sum() > 0 else np.zeros(n, dtype=bool)
                g = gs[rng.choice(len(gs), n, p=gp)]
                lat, lon = self.sample_in_grids(rng, g)
                hidx = np.full(n, -1)
                if hot.any():
                    which = rng.choice(len(hs), int(hot.sum()), p=aff / aff.sum())
                    hidx[hot] = which
                    hl = np.array([hs[w]["lat"] for w in which])
                    ho = np.array([hs[w]["lon"] for w in which])
                    sg = np.array([hs[w]["sigma_m"] for w in which])
                    lat[hot], lon[hot] = self._offset(hl, ho, sg, rng)
                parts["t"].append(t)
                parts["cat"].append(np.full(n, ci))
                parts["lat"].append(lat)
                parts["lon"].append(lon)
                parts["hot"].append(np.where(hidx >= 0, st.idx * 8 + hidx, -1))
                parts["bg"].append(g)
        d = _concat_sorted(parts, key="t")
        rng = seeded_rng(self.seed, S_INCIDENTS, 999)
        n = len(d["t"])
        d["grid"] = self.locate(rng, d["lat"], d["lon"], fallback=d["bg"])
        d["h3"] = h3_cells(d["lat"], d["lon"])
        places = self._places(rng, d["grid"])
        for i in np.nonzero(d["hot"] >= 0)[0].tolist():
            s, h = divmod(int(d["hot"][i]), 8)
            places[i] = self.stations[s].hotspots[h]["name"] + ("附近" if i % 3 else "")
        d["place"] = places
        cat = d["cat"]
        sub_r = rng.random(n)
        out_r = rng.random(n)
        p_none = np.array([NO_ARRIVAL.get(c, 0.01) for c in cats])[cat]
        no_arrival = rng.random(n) < p_none
        arrive = d["t"] + np.maximum(60, lognormal_seconds(rng, 8 * 60, 0.633, n))
        med_close = np.where(cat == cats.index("刑事"), 3 * 3600, 40 * 60)
        close = np.where(no_arrival, d["t"] + np.maximum(120, lognormal_seconds(rng, 15 * 60, 0.6, n)), arrive + np.maximum(300, lognormal_seconds(rng, med_close, 0.7, n)))
        arrive = np.where(no_arrival | (arrive > self.end), NULL_T, arrive)
        close = np.where(close > self.end, NULL_T, close)
        close = np.where((arrive == NULL_T) & ~no_arrival, NULL_T, close)
        d["arrived"] = arrive
        d["closed"] = close
        d["subtype"] = [INCIDENT_SUBTYPES[cats[c]][int(r * len(INCIDENT_SUBTYPES[cats[c]]))] for c, r in zip(cat.tolist(), sub_r.tolist())]
        d["outcome"] = [
            None if cl == NULL_T else INCIDENT_OUTCOMES[cats[c]][int(r * len(INCIDENT_OUTCOMES[cats[c]]))]
            for c, r, cl in zip(cat.tolist(), out_r.tolist(), close.tolist())
        ]
        self.ic = d

    # ----- patrol

    def build_patrol(self) -> None:
        team_rows = []
        sh: dict[str, list] = {k: [] for k in ("team", "shift", "start", "end", "prevented", "caught", "st")}
        self.team_kind: list[str] = []
        plan = ["巡防队", "巡防队", "巡防队", "红袖标巡逻队", "红袖标巡逻队", "商圈巡防队", "城市巡逻队", "城市巡逻队"]
        ordinal = "一二三四五六七八"
        for st in self.stations:
            rng = seeded_rng(self.seed, S_PATROL, st.idx)
            count: dict[str, int] = {}
            comms = list(st.communities)
            base = st.name.removesuffix("派出所")
            team_ids = []
            for kind in plan:
                count[kind] = count.get(kind, 0) + 1
                tid = len(team_rows) + 1
                team_ids.append(tid)
                if kind == "红袖标巡逻队":
                    ci = comms[(count[kind] - 1) * 2 % len(comms)]
                    name = f"{self.comm_names[ci]}红袖标巡逻队"
                    members = int(rng.integers(15, 31))
                    comm = ci + 1
                else:
                    name = f"{base}{kind.removesuffix('队')}{ordinal[count[kind] - 1]}队" if plan.count(kind) > 1 else f"{base}{kind}"
                    members = {"巡防队": int(rng.integers(6, 11)), "商圈巡防队": int(rng.integers(8, 13)), "城市巡逻队": 11 + count[kind] - 1}[kind]
                    comm = None
                team_rows.append((tid, st.idx + 1, comm, name, kind, members))
                self.team_kind.append(kind)
            night_ok = [t for t, k in zip(team_ids, plan) if k != "红袖标巡逻队"]
            # Days in local time, from the first local day of the world to the last.
            d0 = (self.start + 8 * 3600) // DAY
            d1 = (self.end + 8 * 3600) // DAY
            for day in range(int(d0), int(d1) + 1):
                n_w = 4 if rng.random() < 0.75 else 3
                n_b = 3 if rng.random() < 0.85 else 2
                perm = rng.permutation(len(team_ids)).tolist()
                night = [team_ids[i] for i in perm if team_ids[i] in night_ok][:n_b]
                dayt = [team_ids[i] for i in perm if team_ids[i] not in night][:n_w]
                midnight = day * DAY - 8 * 3600  # UTC instant of local 00:00
                for shift, teams, h0 in (("白", dayt, 8), ("黑", night, 20)):
                    for tid in teams:
                        s0 = midnight + h0 * 3600 + int(np.clip(rng.normal(0, 480), -1200, 1200))
                        e0 = s0 + 12 * 3600 + int(np.clip(rng.normal(0, 600), -1500, 1500))
                        lam_p, lam_c = (0.45, 0.08) if shift == "白" else (0.55, 0.17)
                        prev, caught = int(rng.poisson(lam_p)), int(rng.poisson(lam_c))
                        if s0 < self.start or s0 >= self.end:
                            continue
                        if e0 > self.end:  # still on duty: outcomes so far
                            frac = (self.end - s0) / (e0 - s0)
                            prev, caught = int(rng.binomial(prev, frac)), int(rng.binomial(caught, frac))
                            e0 = NULL_T
                        sh["team"].append(tid)
                        sh["shift"].append(shift)
                        sh["start"].append(s0)
                        sh["end"].append(e0)
                        sh["prevented"].append(prev)
                        sh["caught"].append(caught)
                        sh["st"].append(st.idx)
        self.rows_patrol_teams = team_rows
        for k in ("start", "end", "team", "prevented", "caught", "st"):
            sh[k] = np.asarray(sh[k], dtype=np.int64)
        order = np.lexsort((sh["team"], sh["start"]))
        self.sh = {k: (v[order] if isinstance(v, np.ndarray) else [v[i] for i in order.tolist()]) for k, v in sh.items()}
        self._build_tracks()

    def _build_tracks(self) -> None:
        """GPS points for the last PATROL_DAYS days: a biased random walk on each station's streets."""
        sh = self.sh
        since = max(self.start, self.end - PATROL_DAYS * DAY)
        pts: dict[str, list] = {k: [] for k in ("shift", "at", "lat", "lon", "grid")}
        for st in self.stations:
            rng = seeded_rng(self.seed, S_PATROL, 100 + st.idx)
            sel = np.nonzero((sh["st"] == st.idx) & (sh["start"] >= since))[0]
            if not len(sel):
                continue
            nlat, nlon, nbr, node_grid = self._street_nodes(st)
            # Attraction: background (some grids less patrolled) plus hot-spot bumps by day or night.
            bg = np.exp(0.6 * rng.standard_normal(self.G))[node_grid]
            pi = {0: bg.copy(), 1: bg.copy()}
            for h in st.hotspots:
                dkm2 = ((nlat - h["lat"]) * KM_PER_DEG) ** 2 + ((nlon - h["lon"]) * KM_PER_DEG * math.cos(math.radians(CENTER[0]))) ** 2
                bump = np.exp(-dkm2 / (2 * (h["sigma_m"] * 1.3 / 1000) ** 2))
                pi[0] += 6 * h["patrol"][0] * bump
                pi[1] += 6 * h["patrol"][1] * bump
            starts = sh["start"][sel]
            stops = np.where(sh["end"][sel] == NULL_T, self.end, sh["end"][sel])
            steps = np.maximum(1, -(-(stops - starts) // PATROL_STEP_S))
            night = np.array([1 if sh["shift"][i] == "黑" else 0 for i in sel.tolist()])
            S, T = len(sel), int(steps.max())
            cur = np.where(night == 1, rng.choice(len(nlat), S, p=pi[1] / pi[1].sum()), rng.choice(len(nlat), S, p=pi[0] / pi[0].sum()))
            p_cur = np.where(night == 1, pi[1][cur], pi[0][cur])
            path = np.empty((T, S), dtype=np.int64)
            for t in range(T):
                path[t] = cur
                d = rng.integers(0, 4, S)
                cand = nbr[cur, d]
                ok = cand >= 0
                cand = np.where(ok, cand, cur)
                p_c = np.where(night == 1, pi[1][cand], pi[0][cand])
                acc = ok & (rng.random(S) * p_cur < p_c)  # Metropolis: stationary distribution ∝ pi
                cur = np.where(acc, cand, cur)
                p_cur = np.where(acc, p_c, p_cur)
            mask = np.arange(T)[None, :] < steps[:, None]  # (S, T)
            s_idx, t_idx = np.nonzero(mask)  # shift-major order
            nodes = path[t_idx, s_idx]
            at = starts[s_idx] + t_idx * PATROL_STEP_S
            lat, lon = self._offset(nlat[nodes], nlon[nodes], 12.0, rng)
            pts["grid"].append(node_grid[nodes])
            pts["shift"].append(sel[s_idx])
            pts["at"].append(at)
            pts["lat"].append(lat)
            pts["lon"].append(lon)
        if pts["at"]:
            shift = np.concatenate(pts["shift"])
            at = np.concatenate(pts["at"])
            order = np.lexsort((shift, at))
            self.pp = {k: np.concatenate(pts[k])[order] for k in ("lat", "lon", "grid")}
            self.pp.update(shift=shift[order], at=at[order])
        else:
            self.pp = {"shift": np.zeros(0, np.int64), "at": np.zeros(0, np.int64), "lat": np.zeros(0), "lon": np.zeros(0), "grid": np.zeros(0, np.int64)}
        rng = seeded_rng(self.seed, S_PATROL, 999)
        self.pp["grid"] = self.locate(rng, self.pp["lat"], self.pp["lon"], fallback=self.pp["grid"])
        self.pp["h3"] = h3_cells(self.pp["lat"], self.pp["lon"])

    def _street_nodes(self, st: _Station) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Street crossings: the centres of a 3×3 subdivision of each grid, 4-connected."""
        sc, sr = st.idx % DISTRICT_COLS, st.idx // DISTRICT_COLS
        W, H = GX * 3, GY * 3
        lat = np.zeros(W * H)
        lon = np.zeros(W * H)
        grid = np.zeros(W * H, dtype=np.int64)
        for g in st.grids:
            q = self.quads[g]
            gi, gj = int(self.g_i[g]) - sc * GX, int(self.g_j[g]) - sr * GY
            for a in range(3):
                for b in range(3):
                    u, v = (a + 0.5) / 3, (b + 0.5) / 3
                    p = (1 - u) * (1 - v) * q[0] + u * (1 - v) * q[1] + u * v * q[2] + (1 - u) * v * q[3]
                    k = (gi * 3 + a) * H + gj * 3 + b
                    lat[k], lon[k] = p[1], p[0]
                    grid[k] = g
        x, y = np.divmod(np.arange(W * H), H)
        nbr = np.full((W * H, 4), -1, dtype=np.int64)
        for d, (ddx, ddy) in enumerate(((1, 0), (-1, 0), (0, 1), (0, -1))):
            xx, yy = x + ddx, y + ddy
            ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
            nbr[ok, d] = xx[ok] * H + yy[ok]
        return lat, lon, nbr, grid

    # ----- cameras

    def build_cameras(self) -> None:
        rng = seeded_rng(self.seed, S_CAMERAS)
        kinds = schema.CAMERA_KINDS
        per = rng.integers(8, 13, self.G)
        grid = np.repeat(np.arange(self.G), per)
        n = len(grid)
        kind = rng.choice(len(kinds), n, p=CAMERA_KIND_W / CAMERA_KIND_W.sum())
        lat, lon = self.sample_in_grids(rng, grid)
        at_cp = (kind <= 1) & (rng.random(n) < 0.8)
        num = rng.integers(1, 200, n).tolist()
        gate = rng.integers(0, 5, n).tolist()
        names = []
        for i in range(n):
            g = int(grid[i])
            cps = self.g_compounds[g]
            st = self.stations[int(self.g_station[g])]
            street = st.streets[num[i] % len(st.streets)]
            if at_cp[i] and cps:
                c = cps[num[i] % len(cps)]
                lat[i], lon[i] = self.cp_lat[c], self.cp_lon[c]
                if kind[i] == 0:
                    names.append(f"{self.cp_name[c]}{('东门', '南门', '西门', '北门', '地下车库')[gate[i]]}出入口")
                else:
                    names.append(f"{self.cp_name[c]}{1 + num[i] % self.cp_buildings[c]}号楼单元门")
            elif kind[i] == 2:
                other = st.streets[(num[i] + 3) % len(st.streets)]
                names.append(f"{street}与{other}交叉口" if gate[i] < 3 else f"{street}{num[i]}号路段")
            elif kind[i] == 3:
                names.append(f"{self.g_names[g]}{('学校门口', '幼儿园门口', '银行网点', '加油站', '社区警务室')[gate[i]]}")
            else:
                names.append(f"{street}{num[i]}号{('出入口', '楼栋', '沿街店铺', '停车场', '巷口')[gate[i]]}")
        lat, lon = self._offset(lat, lon, np.where(at_cp, 30.0, 0.0), rng)
        grid = self.locate(rng, lat, lon, want=grid)
        online_rate = rng.beta(23, 2, self.G)[grid]
        online = rng.random(n) < online_rate
        seen = np.where(online, self.end - rng.integers(0, 300, n), self.end - np.maximum(3600, lognormal_seconds(rng, DAY, 1.2, n)))
        seen = np.where(~online & (rng.random(n) < 0.03), NULL_T, seen)
        self.cm = {"grid": grid, "lat": lat, "lon": lon, "h3": h3_cells(lat, lon), "name": names, "kind": [kinds[k] for k in kind.tolist()], "online": online.tolist(), "seen": seen}

    # ----- base records

    def build_base(self) -> None:
        rng = seeded_rng(self.seed, S_BASE)
        grid = np.concatenate(self.base_grid)
        kind = np.concatenate(self.base_kind)
        h3s = [h for part in self.base_h3 for h in part]
        n = len(grid)
        span = self.end - self.start
        day = self.start + (rng.beta(0.8, 1.8, n) * span).astype(np.int64)
        local_midnight = ((day + 8 * 3600) // DAY) * DAY - 8 * 3600
        hour = rng.choice(24, n, p=WORK_HOURS / WORK_HOURS.sum())
        t = local_midnight + hour * 3600 + rng.integers(0, 3600, n)
        t = np.clip(t, self.start, self.end - 60)
        collector = self._pick_workers(rng, grid, COLLECTOR_W, 0.3)
        collector = np.where(rng.random(n) < 0.05, 0, collector)  # collected by officers: no worker
        order = np.argsort(t, kind="stable")
        self.br = {"grid": grid[order], "kind": kind[order], "t": t[order], "collector": collector[order], "h3": [h3s[i] for i in order.tolist()]}


def _convex(q: np.ndarray) -> bool:
    s = []
    for i in range(4):
        a, b, c = q[i], q[(i + 1) % 4], q[(i + 2) % 4]
        s.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    return all(x > 0 for x in s)


def _concat_sorted(parts: dict[str, list], key: str) -> dict:
    """Concatenate per-station column parts and sort every column by ``key`` (stable)."""
    out: dict = {}
    for k, v in parts.items():
        if v and isinstance(v[0], list):
            out[k] = [x for part in v for x in part]
        else:
            out[k] = np.concatenate(v) if v else np.zeros(0)
    order = np.argsort(out[key], kind="stable")
    for k, v in out.items():
        out[k] = [v[i] for i in order.tolist()] if isinstance(v, list) else v[order]
    return out


# --- writing -----------------------------------------------------------------------------


def _chunks(n: int, size: int = 50_000) -> Iterator[tuple[int, int]]:
    for a in range(0, n, size):
        yield a, min(n, a + size)


def _none_if_zero(a: np.ndarray) -> list:
    return [None if x == 0 else x for x in a.tolist()]


def _rows_reports(w: _World) -> Iterator[tuple]:
    rp = w.rp
    cats, urgs = schema.REPORT_CATEGORIES, schema.URGENCIES
    for a, b in _chunks(len(rp["t"])):
        yield from zip(
            range(a + 1, b + 1),
            to_datetimes(rp["t"][a:b]),
            (rp["grid"][a:b] + 1).tolist(),
            rp["h3"][a:b],
            rp["lat"][a:b].tolist(),
            rp["lon"][a:b].tolist(),
            rp["place"][a:b],
            rp["reporter"][a:b].tolist(),
            [cats[c] for c in rp["cat"][a:b].tolist()],
            [urgs[u] for u in rp["urg"][a:b].tolist()],
            rp["text"][a:b],
            rp["source"][a:b],
        )


def _rows_tasks(w: _World) -> Iterator[tuple]:
    tk = w.tk
    cats, urgs = schema.REPORT_CATEGORIES, schema.URGENCIES
    n = len(tk["created"])
    for a, b in _chunks(n):
        yield from zip(
            range(a + 1, b + 1),
            tk["report"][a:b].tolist(),
            (tk["grid"][a:b] + 1).tolist(),
            tk["h3"][a:b],
            [cats[c] for c in tk["cat"][a:b].tolist()],
            [urgs[u] for u in tk["urg"][a:b].tolist()],
            to_datetimes(tk["created"][a:b]),
            tk["state"][a:b],
            tk["officer"][a:b],
            tk["dept"][a:b],
            to_datetimes(tk["dispatched"][a:b]),
            to_datetimes(tk["deadline"][a:b]),
            to_datetimes(tk["feedback"][a:b]),
            to_datetimes(tk["closed"][a:b]),
            to_datetimes(tk["visited"][a:b]),
            tk["satisfied"][a:b],
            tk["transfers"][a:b],
            tk["version"][a:b],
            to_datetimes(tk["updated"][a:b]),
        )


def _rows_events(w: _World) -> Iterator[tuple]:
    ev = w.ev
    for a, b in _chunks(len(ev["at"])):
        yield from zip(
            range(a + 1, b + 1),
            ev["task"][a:b],
            ev["seq"][a:b],
            to_datetimes(ev["at"][a:b]),
            ev["event"][a:b],
            ev["actor"][a:b],
            ev["to_state"][a:b],
            ev["officer"][a:b],
            ev["dept"][a:b],
            to_datetimes(ev["deadline"][a:b]),
            ev["note"][a:b],
        )


def _rows_disputes(w: _World) -> Iterator[tuple]:
    d = w.dp
    yield from zip(
        range(1, len(d["t"]) + 1),
        _none_if_zero(d["report"]),
        (d["grid"] + 1).tolist(),
        d["h3"],
        d["kind"],
        to_datetimes(d["t"]),
        d["parties"],
        d["summary"],
        d["level"],
        d["status"],
        to_datetimes(d["closed"]),
        to_datetimes(d["due"]),
        to_datetimes(d["visited"]),
        d["satisfied"],
    )


def _rows_steps(w: _World) -> Iterator[tuple]:
    m = w.ms
    yield from zip(range(1, len(m["level"]) + 1), m["dispute"], m["level"], m["mediator"], to_datetimes(m["started"]), to_datetimes(m["ended"]), m["outcome"])


def _rows_incidents(w: _World) -> Iterator[tuple]:
    d = w.ic
    cats = schema.INCIDENT_CATEGORIES
    for a, b in _chunks(len(d["t"])):
        yield from zip(
            range(a + 1, b + 1),
            to_datetimes(d["t"][a:b]),
            to_datetimes(d["arrived"][a:b]),
            to_datetimes(d["closed"][a:b]),
            [cats[c] for c in d["cat"][a:b].tolist()],
            d["subtype"][a:b],
            (d["grid"][a:b] + 1).tolist(),
            d["h3"][a:b],
            d["lat"][a:b].tolist(),
            d["lon"][a:b].tolist(),
            d["place"][a:b],
            d["outcome"][a:b],
        )


def _rows_shifts(w: _World) -> Iterator[tuple]:
    s = w.sh
    yield from zip(range(1, len(s["start"]) + 1), s["team"].tolist(), s["shift"], to_datetimes(s["start"]), to_datetimes(s["end"]), s["prevented"].tolist(), s["caught"].tolist())


def _rows_points(w: _World) -> Iterator[tuple]:
    p = w.pp
    for a, b in _chunks(len(p["at"])):
        yield from zip(
            range(a + 1, b + 1),
            (p["shift"][a:b] + 1).tolist(),
            to_datetimes(p["at"][a:b]),
            p["lat"][a:b].tolist(),
            p["lon"][a:b].tolist(),
            (p["grid"][a:b] + 1).tolist(),
            p["h3"][a:b],
        )


def _rows_cameras(w: _World) -> Iterator[tuple]:
    c = w.cm
    yield from zip(
        range(1, len(c["grid"]) + 1),
        (c["grid"] + 1).tolist(),
        c["h3"],
        c["lat"].tolist(),
        c["lon"].tolist(),
        c["name"],
        c["kind"],
        c["online"],
        to_datetimes(c["seen"]),
    )


def _rows_base(w: _World) -> Iterator[tuple]:
    b_ = w.br
    kinds = schema.BASE_RECORD_KINDS
    for a, b in _chunks(len(b_["t"])):
        yield from zip(
            range(a + 1, b + 1),
            (b_["grid"][a:b] + 1).tolist(),
            b_["h3"][a:b],
            [kinds[k] for k in b_["kind"][a:b].tolist()],
            to_datetimes(b_["t"][a:b]),
            _none_if_zero(b_["collector"][a:b]),
        )


def _cols(table) -> list[str]:
    return [c.name for c in table.columns if c.name not in schema.IMPORT_COLUMNS]


# --- the public entry point ------------------------------------------------------------------


def _has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(schema.stations.c.id).limit(1)).first() is not None


def _delete_all(engine: Engine) -> None:
    """Remove every row of the place and event data, children first, in one
    transaction, with the facts about the data set, its vocabulary and its import
    batches (the accounts and the audit trail stay: ``schema.ACCOUNT_TABLES``)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # TRUNCATE, not DELETE: deleting reports row by row would check each one against
            # disputes.report_id (not indexed), which is quadratic at district scale.
            tables = reversed(schema.ALL_TABLES + schema.META_TABLES + schema.IMPORT_TABLES)
            names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables)
            conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY"))
        else:
            for t in reversed(schema.ALL_TABLES + schema.META_TABLES + schema.IMPORT_TABLES):
                conn.execute(delete(t))


def _analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after the bulk load (SQLite has none until ANALYZE)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit = 2000")
            conn.exec_driver_sql("ANALYZE")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE " + ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in schema.ALL_TABLES))


def generate(
    engine: Engine,
    *,
    scale: str = "station",
    seed: int = 7,
    end: datetime | None = None,
    months: int = 18,
    replace: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> DemoSummary:
    """Create the schema where missing and write the demo world into ``engine`` (a writer).

    Refuses (``DemoRefused``) when the database already has stations, unless
    ``replace`` is true: then all rows of all tables are deleted first.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")
    if months < 1:
        raise ValueError("months must be at least 1")
    t0 = time.monotonic()
    if end is None:
        end = utcnow().replace(second=0, microsecond=0)
    if end.tzinfo is not None:
        raise ValueError("end must be a naive UTC datetime")
    start_local = shift_months((end + LOCAL_OFFSET).date(), -months)
    start = datetime.combine(start_local, (end + LOCAL_OFFSET).time()) - LOCAL_OFFSET
    report = progress or (lambda f, m: None)

    stages = [
        (0.02, "准备数据库…"),
        (0.04, "生成辖区、社区与网格…"),
        (0.06, "生成人员与职能部门…"),
        (0.08, "写入辖区与人员…"),
        (0.10, "生成网格上报…"),
        (0.16, "生成派单闭环…"),
        (0.24, "生成矛盾纠纷…"),
        (0.27, "写入上报、派单与纠纷…"),
        (0.42, "生成警情…"),
        (0.46, "生成巡逻与轨迹…"),
        (0.58, "写入警情与巡逻…"),
        (0.80, "生成监控点位与一标三实…"),
        (0.84, "写入监控点位与一标三实…"),
        (0.95, "更新统计信息…"),
    ]
    it = iter(stages)

    def step() -> None:
        f, m = next(it)
        report(f, m)

    step()

    upgrade(engine)
    if _has_data(engine):
        if not replace:
            raise DemoRefused(
                "the database already holds data (stations exist); refusing to overwrite it without --replace",
                "数据库中已有数据，未指定替换（--replace），已拒绝写入演示数据。",
            )
        _delete_all(engine)

    w = _World(scale, seed, start, end)
    counts: dict[str, int] = {t.name: 0 for t in schema.ALL_TABLES}

    def load(conn, table, rows) -> None:
        if conn.dialect.name == "sqlite":
            # A bigger page cache (default 2 MB) keeps the growing indexes in memory during the load.
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
        counts[table.name] = bulk_insert(conn, table, _cols(table), rows)

    step()
    w.build_places()
    step()
    w.build_people()
    step()
    written = False
    try:
        with engine.begin() as conn:
            load(conn, schema.stations, w.rows_stations)
            load(conn, schema.communities, w.rows_communities)
            load(conn, schema.grids, w.rows_grids)
            load(conn, schema.compounds, w.rows_compounds)
            load(conn, schema.officers, w.rows_officers)
            load(conn, schema.grid_workers, w.rows_grid_workers)
            load(conn, schema.departments, w.rows_departments)
        written = True
        step()
        w.build_reports()
        step()
        w.build_tasks()
        step()
        w.build_disputes()
        step()
        with engine.begin() as conn:
            load(conn, schema.reports, _rows_reports(w))
            load(conn, schema.tasks, _rows_tasks(w))
            load(conn, schema.task_events, _rows_events(w))
            load(conn, schema.disputes, _rows_disputes(w))
            load(conn, schema.mediation_steps, _rows_steps(w))
        del w.ev
        step()
        w.build_incidents()
        step()
        w.build_patrol()
        step()
        with engine.begin() as conn:
            load(conn, schema.incidents, _rows_incidents(w))
            load(conn, schema.patrol_teams, w.rows_patrol_teams)
            load(conn, schema.patrol_shifts, _rows_shifts(w))
            load(conn, schema.patrol_points, _rows_points(w))
        del w.pp
        step()
        w.build_cameras()
        w.build_base()
        step()
        with engine.begin() as conn:
            load(conn, schema.cameras, _rows_cameras(w))
            load(conn, schema.base_records, _rows_base(w))
            reset_sequences(conn, schema.ALL_TABLES)
            # What the screens label 演示数据: this world is generated, not a station's own.
            conn.execute(
                schema.dataset_info.insert(),
                [{"key": "origin", "value": "demo"}, {"key": "demo", "value": f"scale={scale} seed={seed} end={end.isoformat()}"}],
            )
            conn.execute(schema.vocabulary.insert(), schema.default_vocabulary())
        step()
        _analyze(engine)
    except BaseException:
        if written:  # do not leave half a world behind: the app would take it for a whole one
            try:
                _delete_all(engine)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
        raise
    report(1.0, "完成")
    return DemoSummary(counts=counts, seconds=round(time.monotonic() - t0, 3), scale=scale, seed=seed, end=end)


# --- command line ----------------------------------------------------------------------------


def _parse_end(s: str) -> datetime:
    try:
        dt = datetime.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {s!r}") from exc
    if dt.tzinfo is not None:
        dt = (dt - dt.utcoffset()).replace(tzinfo=None)
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.demo", description="Write the seeded demo world into DATABASE_URL (default: the embedded SQLite file).")
    ap.add_argument("--scale", choices=sorted(SCALES), default="station", help="one station (default) or a district of 10 stations")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--months", type=int, default=18, help="months of history before --end (default 18)")
    ap.add_argument("--end", type=_parse_end, default=None, help="the world's 'now' as naive UTC, e.g. 2026-11-20T06:30 (default: now)")
    ap.add_argument("--replace", action="store_true", help="delete all existing rows first")
    args = ap.parse_args(argv)

    url = load_settings().database_url
    try:
        where = describe_url(url)
    except Exception:  # noqa: BLE001 - a URL that cannot be parsed is still named
        where = "DATABASE_URL"
    t0 = time.monotonic()
    last = {"t": t0, "msg": None}

    def progress(frac: float, msg: str) -> None:
        now = time.monotonic()
        if last["msg"] is not None:
            m = last["msg"]
            pad = 28 - sum(2 if ord(ch) > 0x2E7F else 1 for ch in m)  # CJK takes two columns
            print(f"  {m}{' ' * max(1, pad)}{now - last['t']:6.2f} s", flush=True)
        last["t"], last["msg"] = now, msg

    print(f"demo world ({args.scale}, seed {args.seed}) -> {where}", flush=True)
    try:
        engine = make_writer(url)
        summary = generate(engine, scale=args.scale, seed=args.seed, end=args.end, months=args.months, replace=args.replace, progress=progress)
    except DemoRefused as exc:
        print(f"error: {exc.en}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, DBAPIError, OSError, sqlite3.Error) as exc:
        try:
            msg = translate_error(exc, url).en
        except Exception:  # noqa: BLE001 - e.g. a URL that cannot even be parsed
            msg = translate_error(exc).en
        print(f"error: {msg}", file=sys.stderr)
        return 1
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
