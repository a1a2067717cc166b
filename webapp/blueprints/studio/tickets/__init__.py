"""The service team's ticket queue, tickets, canned replies and the promise report."""
