"""One family as staff see it: its journeys and deliveries (every read recorded)."""
