"""Where the web layer joins the community package to its siblings (care, rewards), which
never import each other.

`post_published(session, post)` is called, in the transaction that publishes it, the first
time a club post is published: at once when the word filter lets it through, or when a
moderator lets a held post through (`ClubPost.published_at` is set once, so it is called
once per post): the author's reward points. `post_removed` takes them back when the
author deletes the post or a moderator hides it; `post_restored` gives them back when a
moderator restores a hidden post.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from community.models import ClubPost
from webapp import rewards_glue


def post_published(session: Session, post: ClubPost) -> None:
    """A club post was published for the first time."""
    rewards_glue.club_post_published(session, post)


def post_removed(session: Session, post: ClubPost) -> None:
    """A club post was deleted by its author or hidden by a moderator."""
    rewards_glue.club_post_removed(session, post)


def post_restored(session: Session, post: ClubPost) -> None:
    """A moderator restored a hidden post (not its first publication)."""
    rewards_glue.club_post_restored(session, post)
