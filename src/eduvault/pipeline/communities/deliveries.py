"""The ``community`` delivery channel: a community's aspects brought in step on its forum.

A delivery names an aspect (place, topics, members, badges) of one community, not a value:
the step reads the course as it is when it runs, so every change within a window goes out
in one step, in the forum's batches (a group's new members in one request)."""

from __future__ import annotations

from collections.abc import Sequence

from eduvault.integrations.base import community_writer
from eduvault.integrations.models import Source
from eduvault.kernel.errors import EduVaultError, SourceError, SourceRateLimited, SourceRejected
from eduvault.pipeline.communities.models import Community
from eduvault.pipeline.communities.services import ASPECTS, CHANNEL, community_step
from eduvault.pipeline.outbox.channels import Channel, Held, Sent, register
from eduvault.pipeline.outbox.models import Delivery


@register(CHANNEL)
class CommunityDeliveries(Channel):
    batch_size = 20
    #: A first step of a large course pages through the forum's rate limit.
    lease_seconds = 1800.0

    def hold(self, target: str) -> None:
        source = Source.objects.filter(name=target).first()
        if source is not None and not source.enabled:
            raise Held(f"source {target} is disabled ({source.disabled_reason or 'by an operator'})", seconds=600)

    def send(self, target: str, deliveries: Sequence[Delivery]) -> list[Sent]:
        source = Source.objects.filter(name=target).first()
        if source is None:
            return [Sent(ok=False, permanent=True, error=f"no source {target}")] * len(deliveries)
        wanted = {(d.payload.get("community"), d.payload.get("aspect")) for d in deliveries}
        communities = Community.objects.select_related("course", "course__source", "source").in_bulk(
            {c for c, _ in wanted}
        )
        results: dict[tuple[object, object], Sent] = {}
        writer = community_writer(source)
        try:
            for aspect in ASPECTS:  # in their order: the place before its topics
                for community_id, asked in sorted(w for w in wanted if w[1] == aspect):
                    community = communities.get(community_id)
                    if community is None:
                        results[(community_id, asked)] = Sent(ok=True, excerpt="the community was removed")
                        continue
                    results[(community_id, asked)] = self._step(community, aspect, writer)
        finally:
            writer.close()
        return [
            results.get((d.payload.get("community"), d.payload.get("aspect")))
            or Sent(ok=False, permanent=True, error=f"unknown community step {d.payload.get('aspect')!r}")
            for d in deliveries
        ]

    def _step(self, community: Community, aspect: str, writer: object) -> Sent:
        try:
            outcome = community_step(community=community, aspect=aspect, writer=writer)
        except SourceRateLimited as exc:
            return Sent(ok=False, status_code=429, error=str(exc), retry_after=exc.retry_after or 60.0)
        except SourceRejected as exc:
            return Sent(ok=False, status_code=getattr(exc, "forum_status", 400), error=str(exc), permanent=True)
        except SourceError as exc:
            return Sent(ok=False, error=str(exc))
        except EduVaultError as exc:  # what Edu Vault itself refuses (a category taken): for good
            return Sent(ok=False, error=str(exc), permanent=True)
        if outcome.refused:
            return Sent(ok=False, permanent=True, error=outcome.summary()[:1000])
        return Sent(ok=True, status_code=200, excerpt=outcome.summary()[:300])
