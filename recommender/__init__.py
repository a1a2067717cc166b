"""Product suggestions: the interaction log, models, ranking, reasons and offline evaluation.

Plain Python on a SQLAlchemy session (no Flask), like every domain package. Models are
trained offline (`flask reco train`) into a versioned artifact the web workers read.
"""
