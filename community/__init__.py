"""Community: birth clubs (by due or birth month) and topic groups, their posts, comments,
likes and reports, and the moderation that keeps them safe.

Beside `care` and `rewards`, which it never imports: the web layer joins them.

A merge of two accounts (crm.duplicates) moves their club life too: importing the package
registers `community.merge`'s mover with it.
"""
from community import merge as _merge  # noqa: E402,F401  (registers the mover)
