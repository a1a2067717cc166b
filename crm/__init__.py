"""CRM for the brand: customer 360, contact history, segments, value (RFM, tiers, CLV),
cohorts and the response of journeys, campaigns and suggestions.

Plain functions and classes over a SQLAlchemy `Session`, like the rest of the domain: they
never commit (the caller owns the transaction) and never import Flask. `crm` sits above
`journeys` in the layering (it reads deliveries, campaign sends and the interaction log);
journeys and campaigns reach a saved segment only through a function the web layer or the
scheduler hands them, never by importing `crm`.
"""
