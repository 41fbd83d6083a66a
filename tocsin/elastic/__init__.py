"""Elasticsearch: index templates, shipping with a spool, hunting with Sigma, Kibana exports."""

#: Data streams tocsin writes (``logs-<dataset>-<namespace>``, Elastic's naming scheme).
EVENTS_STREAM = "logs-tocsin.events-default"
ALERTS_STREAM = "logs-tocsin.alerts-default"
#: What reads (hunts, Kibana rules, the data view) search.
EVENTS_PATTERN = "logs-tocsin.events-*"
ALERTS_PATTERN = "logs-tocsin.alerts-*"
