"""Community: birth clubs (by due or birth month) and topic groups, their posts, comments,
likes and reports, and the moderation that keeps them safe.

Beside `care` and `rewards`, which it never imports: the web layer joins them.
"""
