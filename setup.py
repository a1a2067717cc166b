"""Build step the metadata in pyproject.toml cannot say: compile the translation catalogues.

The .mo files are build output (not kept in git), so a plain `pip install .` compiles each
webapp/translations/<locale>/LC_MESSAGES/messages.po into the built package beside it, as
`make install` does in the source tree (`pybabel compile`). An editable install reads the
source tree's own .mo files and skips this.
"""
from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGUES = Path("webapp") / "translations"


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in sorted(CATALOGUES.glob("*/LC_MESSAGES/*.po")):
            with po_path.open("rb") as po:
                catalog = read_po(po, locale=po_path.parts[-3])
            target = Path(self.build_lib) / po_path.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as mo:
                write_mo(mo, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogues})
