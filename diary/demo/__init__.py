"""Demo families for trying the site: `flask demo load`.

Four parent accounts (expecting; a two-week-old in London; a boy born at 32 weeks, now eight
months, with his father as co-caregiver; two-year-old twins) with months of diary history and
generated photos, plus marketer, reviewer, analyst, customer service and admin staff, all with
DEMO_PASSWORD.
Dates are relative to `today`, so ages stay true whenever it runs. Idempotent: a family whose
parent's email already exists is left alone, and the report says so. Never commits.
"""
from diary.demo.loader import DEMO_PASSWORD, DemoLogin, DemoReport, load

__all__ = ["DEMO_PASSWORD", "DemoLogin", "DemoReport", "load"]
