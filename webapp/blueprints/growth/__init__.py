"""Growth charts and milestones for a child."""
