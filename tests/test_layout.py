"""The layout holds: one import direction between apps (lint-imports checks the layers in
`make test`), no import circle between files but the deliberate services <-> tasks one, and the
size limit that keeps each module readable."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("itrs", "ivigtrack", "patients", "infusions", "risk", "fhir_r4", "demo")
# Services enqueue tasks (imported at module level); a task imports its service inside its body.
DELIBERATE = {"risk.tasks", "risk.services.assessment", "risk.services.flags", "risk.services.sweep"}
LONG_ALLOWED = {"itrs/engine.py", "itrs/review.py"}


def _cycles(graph) -> list[set[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.add(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_circle_but_services_and_tasks():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert [group for group in _cycles(graph) if not group <= DELIBERATE] == []


def test_the_cycle_finder_sees_a_circle():
    class Graph:
        modules = {"a", "b", "c"}

        @staticmethod
        def find_modules_directly_imported_by(module):
            return {"a": {"b"}, "b": {"a"}, "c": set()}[module]

    assert _cycles(Graph()) == [{"a", "b"}]


def test_no_module_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in (*PACKAGES, "tests", "bench")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {name: lines for name, lines in long.items() if lines > 600 and name not in LONG_ALLOWED} == {}
