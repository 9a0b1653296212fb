"""What a benchmark run prints: progress lines, and the table of figures against their floors.

`Row` is one figure (value, spread, floor, ratio, target, met); `build_rows` turns the
measurements of bench/sweeps.py, bench/reassess.py, bench/pages.py and bench/governance.py into rows, and
`print_table` prints them. The targets are those of bench/README.md (Targets).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, field

# --- rows of the report -------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    meets: bool | None = None
    spread: str = ""
    samples: list = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return ""
    if len(values) == 1:
        return "1 run"
    return f"{fmt.format(min(values))}–{fmt.format(max(values))} ({len(values)} runs)"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- report ---------------------------------------------------------------------------------------


def build_rows(args, sweeps, floor_runs, reassess, pages, memory_10k, governance=None, comparison=None) -> list[Row]:
    rows: list[Row] = []
    floor = median(floor_runs)
    n = args.patients
    if sweeps:
        rows.append(
            Row(
                "floor: one SQL query reading the rows the snapshot loader reads",
                floor,
                "s",
                floor,
                1.0,
                "(floor)",
                None,
                spread(floor_runs),
                floor_runs,
                f"{sweeps['rows_read']} rows fetched",
            )
        )
        for key, name, mult, limit in (
            ("steady", "full sweep, steady state (nothing changed)", 3, 30),
            ("first", "full sweep, first pass (every assessment new)", 6, 60),
        ):
            value = median(sweeps[key])
            ratio = value / floor
            scale = "" if n == 100_000 else f" (at 100k; here {n})"
            rows.append(
                Row(
                    name,
                    value,
                    "s",
                    floor,
                    ratio,
                    f"≤ {mult}× floor and < {limit} s{scale}",
                    ratio <= mult and (value < limit or n < 100_000),
                    spread(sweeps[key]),
                    sweeps[key],
                    f"{args.workers} worker processes, chunks of {args.chunk}; "
                    f"CPU in the workers {median(sweeps['cpu'][key]):.1f} s (median)",
                )
            )
    if reassess:
        ms = reassess["ms"]
        rows.append(
            Row(
                "re-assess one patient after a write",
                median(ms),
                "ms",
                None,
                None,
                "< 25 ms",
                median(ms) < 25,
                spread(ms, "{:.1f}") + f"; p90 {sorted(ms)[int(len(ms) * 0.9)]:.1f}",
                ms,
                f"{reassess['changed']}/{reassess['count']} wrote a new assessment",
            )
        )
        q = reassess["queries"]
        rows.append(
            Row(
                "re-assess one patient after a write: queries",
                max(q),
                "queries",
                None,
                None,
                "≤ 12 queries",
                max(q) <= 12,
                f"{min(q)}–{max(q)}",
                [],
            )
        )
    if pages:
        res, avail, counts = pages["results"], pages["available"], pages["counts"]

        def rps(name):
            return median([r.rps for r in res[name]]) if res[name] else None

        for floor_name, label in (("floor_token", "token"), ("floor_session", "session cookie")):
            if res[floor_name]:
                v = rps(floor_name)
                rows.append(
                    Row(
                        f"floor: bare DRF list of the same 50 rows, {args.connections} connections ({label})",
                        v,
                        "req/s",
                        v,
                        1.0,
                        "(floor)",
                        None,
                        spread([r.rps for r in res[floor_name]], "{:.0f}"),
                        [r.rps for r in res[floor_name]],
                        _latency_note(res[floor_name]) + f"; queries {(counts.get(floor_name) or (None, None))[1]}",
                    )
                )
        for name, figure, floor_name, key in (
            (
                "api",
                f"API patients/ page of 50 with risk, {args.connections} connections, gunicorn",
                "floor_token",
                "api",
            ),
            ("staff", f"staff worklist page, {args.connections} connections", "floor_session", "staff"),
        ):
            small, big = (counts or {}).get(key) or (None, None)
            constant = small is not None and small == big
            if not res[name]:
                rows.append(
                    Row(
                        figure,
                        None,
                        "req/s",
                        rps(floor_name),
                        None,
                        "≥ 0.5× floor's requests/s, constant queries",
                        None,
                        "",
                        [],
                        f"not available ({avail.get(name) or 'not measured'})",
                    )
                )
                continue
            value, fl = rps(name), rps(floor_name)
            ratio = value / fl if fl else None
            rows.append(
                Row(
                    figure,
                    value,
                    "req/s",
                    fl,
                    ratio,
                    "≥ 0.5× floor's requests/s, constant queries",
                    bool(ratio is not None and ratio >= 0.5 and constant),
                    spread([r.rps for r in res[name]], "{:.0f}"),
                    [r.rps for r in res[name]],
                    _latency_note(res[name])
                    + f"; queries {small} and {big} ({'constant' if constant else 'NOT constant'})",
                )
            )
    if governance:
        rows.extend(_governance_rows(governance))
    if comparison:
        rows.append(_compare_row(comparison))
    if sweeps:
        peak = max(sweeps["memory"])
        rows.append(
            Row(
                f"sweep worker peak memory at {n} patients",
                peak,
                "MB",
                None,
                None,
                "—",
                None,
                spread(sweeps["memory"], "{:.0f}"),
                sweeps["memory"],
            )
        )
        if memory_10k:
            ratio = peak / memory_10k
            rows.append(
                Row(
                    f"sweep worker peak memory, 10k vs {n // 1000}k patients",
                    ratio,
                    "×",
                    memory_10k,
                    ratio,
                    "grows < 1.5×",
                    ratio < 1.5,
                    f"{memory_10k:.0f} MB → {peak:.0f} MB",
                    [],
                )
            )
    return rows


def _compare_row(c: dict) -> Row:
    """compare_rulesets ITRS-v0 ITRS-v1 against a steady-state sweep of the same patients."""
    value, floor = median(c["times"]["compare"]), median(c["times"]["steady"])
    ratio = value / floor if floor else None
    return Row(
        "ruleset comparison ITRS-v0 vs ITRS-v1, every active patient",
        value,
        "s",
        floor,
        ratio,
        "≤ 1.5× a steady-state sweep",
        bool(ratio is not None and ratio <= 1.5),
        spread(c["times"]["compare"]),
        c["times"]["compare"],
        f"{c['patients']} patients, {c['chunks']} chunks, {c['queries']} queries; "
        f"{c['tier_changes']} change tier; floor = in-process steady sweep ({spread(c['times']['steady'])})",
    )


def _governance_rows(g: dict) -> list[Row]:
    times = g["times"]
    floor, page = median(times["floor"]), median(times["page"])
    none, full = g["counts"]
    constant = none == full
    ratio = page / floor if floor else None
    return [
        Row(
            "floor: one SQL aggregate over the same flags (rule, count(*) GROUP BY rule)",
            floor,
            "ms",
            floor,
            1.0,
            "(floor)",
            None,
            spread(times["floor"], "{:.1f}"),
            times["floor"],
            f"{g['flags']} flags raised in the last 12 months",
        ),
        Row(
            "alert governance page over 12 months of flags",
            page,
            "ms",
            floor,
            ratio,
            "≤ 3× floor, constant queries",
            bool(ratio is not None and ratio <= 3 and constant),
            spread(times["page"], "{:.1f}"),
            times["page"],
            f"in process (test client, session); queries {none} with no flags and {full} with them "
            f"({'constant' if constant else 'NOT constant'}); the stats query alone {median(times['query']):.1f} ms, "
            f"the page over a year with no flags {median(times['empty']):.1f} ms; "
            f"the API {median(times['api']):.1f} ms ({g['api_counts']} queries); the chart, drawn once per "
            f"distinct series and then cached, {g['chart_draw_ms']:.0f} ms to draw",
        ),
    ]


def _latency_note(results) -> str:
    p50 = median([r.p50_ms for r in results])
    p99 = median([r.p99_ms for r in results])
    errors = sum(r.errors for r in results)
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({results[0].client}{', errors ' + str(errors) if errors else ''})"


def _floor_text(r: Row) -> str:
    if r.floor is None:
        return "—"
    if r.unit == "×":
        return f"{r.floor:.0f} MB at 10k"
    return fmt(r.floor, r.unit)


def fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "req/s":
        return f"{value:.0f} {unit}"
    if unit in ("queries",):
        return f"{value:.0f}"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.2f} {unit}"


def print_table(rows: list[Row], header: str) -> None:
    cols = ["figure", "value (median)", "spread", "floor", "ratio", "target", "meets"]
    data = []
    for r in rows:
        data.append(
            [
                r.name,
                fmt(r.value, r.unit),
                r.spread,
                _floor_text(r),
                f"{r.ratio:.2f}×" if r.ratio is not None else "—",
                r.target,
                {True: "yes", False: "NO", None: "—"}[r.meets],
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *data, strict=False)]
    print()
    print(header)
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row, r in zip(data, rows, strict=True):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if r.note:
            print(" " * 4 + "└ " + r.note)
    print()
