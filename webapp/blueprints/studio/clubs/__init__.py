"""Birth-club moderation in the studio: /studio/clubs/…"""
