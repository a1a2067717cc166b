"""Readers: the library by stage and topic, articles, products, help, saves."""
