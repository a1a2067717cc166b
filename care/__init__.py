"""Care: the help centre's answers, questions and complaints (tickets with a first-response
promise), and satisfaction surveys (CSAT, NPS) with their follow-ups.

Above the CRM (every contact lands on the customer's record through `crm.contact`), beside
`community` and `rewards`, which it never imports: the web layer joins them (a redeemed
sample opens a ticket, an answered survey earns points).

A merge of two accounts (crm.duplicates) moves their tickets, help-centre votes and surveys
too: importing the package registers `care.merge`'s movers with it.
"""
from care import merge as _merge  # noqa: E402,F401  (registers the mover)
