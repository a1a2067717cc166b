"""Journeys in the studio (staff): the list, the flow view and its editors."""
