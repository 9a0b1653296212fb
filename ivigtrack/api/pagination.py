"""The API's page: ``REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]``, so every list view uses it.

Its own module, imported by DRF from the setting: the viewset base imports DRF's generic views,
which read that setting when they are defined.
"""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``PAGE_SIZE`` (50) rows unless ``?page_size=`` asks for up to 200."""

    page_size_query_param = "page_size"
    max_page_size = 200
