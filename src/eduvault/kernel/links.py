"""Web linking (RFC 8288): the ``rel="next"`` page of a paged answer, as Canvas and the LTI
services (NRPS, AGS) give it in ``Link`` headers."""

from __future__ import annotations

import re

import httpx

_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r"""(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.IGNORECASE)


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` target of the Link header(s), however they are spelled."""
    header = ",".join(response.headers.get_list("link"))
    for link in _LINK.finditer(header):
        for rel in _REL.finditer(link.group(2)):
            value = next(v for v in rel.groups() if v is not None)
            if "next" in value.lower().split():
                return link.group(1).strip()
    return None
