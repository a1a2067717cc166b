"""Satisfaction surveys in the studio: follow-ups of low scores (customer service) and the
results (analysts); the help centre's "was this helpful?" counts (content staff)."""
