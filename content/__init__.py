"""Stage content: articles, reminders, products and FAQs; authoring workflow; packs.

Plain Python on SQLAlchemy sessions; never imports Flask and never commits.
"""
