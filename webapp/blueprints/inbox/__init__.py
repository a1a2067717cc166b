"""The site inbox."""
