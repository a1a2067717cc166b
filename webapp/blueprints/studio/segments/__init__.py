"""Saved segments in the studio (crm.segments): builder, live count, export."""
