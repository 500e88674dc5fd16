"""Pages of API lists: ``limit`` and ``offset``, refused with a 400 when they are not numbers."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination

from eduvault.kernel.validation import whole_number


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset pages, but ``?limit=true`` or ``?offset=99999999999999999999`` is a
    400 naming the parameter (DRF would quietly use its default, or fail in the database);
    a limit above :attr:`max_limit` is lowered to it."""

    default_limit = 50
    max_limit = 1000

    def get_limit(self, request: Any) -> int:
        limit = whole_number(
            request.query_params.get(self.limit_query_param), self.limit_query_param, minimum=1
        )
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request: Any) -> int:
        return whole_number(request.query_params.get(self.offset_query_param), self.offset_query_param) or 0
