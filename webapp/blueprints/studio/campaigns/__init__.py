"""Marketer campaigns in the studio (journeys.marketing): editor, start/pause, results."""
