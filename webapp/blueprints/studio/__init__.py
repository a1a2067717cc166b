"""The content studio (staff): list, editors, workflow, versions, previews, coverage, packs."""
