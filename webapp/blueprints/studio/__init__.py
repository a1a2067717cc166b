"""The staff area: every staff page lives under `/studio`, one child blueprint per area.

    studio            /studio               the parent (webapp/blueprints/studio/parent.py)
    studio.content    /studio, /studio/…    articles, reminders, products, FAQs; packs
    studio.journeys   /studio/journeys/…    journeys: list, flow view, editors
    studio.families   /studio/families/…    one family's journeys and deliveries (recorded)
    studio.outbox     /studio/outbox/…      failed and dead email deliveries (recorded)
    studio.audit      /studio/audit/…       the staff access log (admins)
    studio.reco       /studio/suggestions   the recommender's evaluation and online CTR
                                            (analysts)
    studio.crm_value  /studio/crm/value     value tiers, groups, RFM grid, top CLV (analysts)
                      /studio/crm/due       the due list and its follow-ups (analysts,
                                            marketers)
    studio.segments   /studio/segments/…    saved segments: builder, live counts, CSV
                                            (marketers and analysts; reads recorded)
    studio.campaigns  /studio/campaigns/…   marketer campaigns: editor, start/pause,
                                            results (marketers edit, analysts read)
    studio.customers  /studio/customers/…   the customer 360: search, one customer's page,
                                            contact notes, duplicates and merges (analysts
                                            and customer service; recorded)
    studio.crm_analysis /studio/crm/cohorts, /response, /reports: cohorts and
                                            retention, journey and campaign response,
                                            pivot reports (analysts)
                      /studio/crm/churn     the churn-risk list and its win-back button
                                            (analysts, marketers)
    studio.rewards    /studio/rewards/…     the samples catalogue (marketers); redemptions
                                            (customer service; recorded)

    studio.clubs      /studio/clubs/…       birth clubs: the moderation queue, bans, the word
                                            filter (moderators, for their clubs), topic
                                            groups and moderator assignment (admins)

Every view checks its roles with `webapp.security.staff_required` (parents get 404, other
staff 403; admins pass every check). The public content images are not staff pages: they
are served by the library (`library.content_image`).
"""
from __future__ import annotations

EDITORS = ("marketer", "reviewer")  # admins pass every staff_required check
READERS = EDITORS + ("analyst",)
#: Segments and campaign results: the people who target and the people who analyse.
MARKETING = ("marketer", "analyst")
#: The customer 360 (search, a customer's page, notes, duplicates): analysts and customer
#: service. Merging two accounts changes customers' data: customer service (and admins).
CUSTOMER_STAFF = ("analyst", "service")
MERGERS = ("service",)
#: Birth clubs: moderators see the queue of the clubs they are assigned to (admins: all).
MODERATORS = ("moderator",)


def home_endpoint(role: str | None) -> str:
    """Where a staff member's studio starts: the content list for those who edit content,
    the customers for analysts and customer service."""
    if role in MODERATORS:
        return "studio.clubs.queue"
    return "studio.customers.index" if role in CUSTOMER_STAFF else "studio.content.index"
