"""Cloud identity-provider and SaaS audit logs: one parser module per vendor.

Each parser maps the vendor's JSON records to ECS fields and to the SigmaHQ
logsource taxonomy; the record itself is kept whole as the event's original
fields, so Sigma rules written against native field names match unchanged.
"""
