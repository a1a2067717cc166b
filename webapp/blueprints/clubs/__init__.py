"""Birth clubs and topic groups for parents: /clubs (see `community`)."""
