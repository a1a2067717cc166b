"""The customer 360 for analysts and customer service: find a customer by anything, see
their whole story on one page, add contact notes, and find and merge duplicates (every
read recorded in the staff access log)."""
