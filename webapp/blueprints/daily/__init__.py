"""The parent's daily tools: timers, the day's summary and charts, the vaccination record."""
