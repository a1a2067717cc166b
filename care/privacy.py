"""What the care package keeps about a person, in their data export (see `diary.privacy`)."""
from __future__ import annotations

from diary.privacy import ExportRegistry


def register(registry: ExportRegistry) -> None:
    """Add this package's sections (none yet) to the export registry."""
