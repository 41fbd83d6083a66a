"""The response engine: incidents opened from alerts, playbook steps journaled and run, an audit trail."""
