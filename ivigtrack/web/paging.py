"""Pages of a list that is never counted.

Django's Paginator counts the whole list to number its pages. For a long list read from the
top, like the worklist of open flags (about 150,000 at 100,000 patients), that COUNT costs more
than the page itself. `window_page` fetches one row more than a page instead: enough to know
whether a next page exists. There is no "page 3 of N"; there is Previous, Next, and the page
number.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowPage:
    number: int
    object_list: list
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def window_page(queryset, number: str | int | None, per_page: int) -> WindowPage:
    """Page `number` (1 when missing or not a positive whole number) of an ordered queryset.
    A page past the end, as when flags were resolved while someone paged, gives the first page."""
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    if not rows and number > 1:
        return window_page(queryset, 1, per_page)
    return WindowPage(number=number, object_list=rows[:per_page], has_next=len(rows) > per_page)
