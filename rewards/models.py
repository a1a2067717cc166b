"""The rewards package's tables (imported by migrations/env.py and the tests' load_all_models)."""
from __future__ import annotations
