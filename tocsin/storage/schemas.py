"""The tables of every database tocsin keeps, in one place (``CREATE ... IF NOT EXISTS``: applying a
schema to a database that has it changes nothing)."""

#: The case database (``scan --db``, watch's state): events and alerts by id.
CASES = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, timestamp REAL, input TEXT, format TEXT, document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_timestamp ON events (timestamp);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, timestamp TEXT, level TEXT, rule_id TEXT, document TEXT NOT NULL
);
"""

#: Watch's state, beside the case tables in ``STATE/state.db`` (see ``tocsin.watch.checkpoint``).
WATCH_STATE = """
CREATE TABLE IF NOT EXISTS watch_files (
    key TEXT PRIMARY KEY, path TEXT, dev INTEGER, ino INTEGER, fp_len INTEGER, fp_hash TEXT,
    offset INTEGER, format TEXT, seen REAL
);
CREATE TABLE IF NOT EXISTS watch_outbox (
    id TEXT PRIMARY KEY, created REAL, level INTEGER, document TEXT, delivered REAL
);
CREATE INDEX IF NOT EXISTS watch_outbox_pending ON watch_outbox (delivered, created);
CREATE TABLE IF NOT EXISTS watch_episodes (
    rule_id TEXT, gkey TEXT, window_start REAL, end REAL, alert_id TEXT,
    PRIMARY KEY (rule_id, gkey, window_start)
);
CREATE TABLE IF NOT EXISTS watch_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS watch_events (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, timestamp REAL, input TEXT, offset TEXT, dataset TEXT,
    raw TEXT
);
DROP INDEX IF EXISTS watch_events_id;
CREATE INDEX IF NOT EXISTS watch_events_timestamp ON watch_events (timestamp);
"""

#: The response journal: incidents, their alerts, steps, timeline and evidence.
JOURNAL = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, number INTEGER UNIQUE NOT NULL, dedup_key TEXT NOT NULL, playbook TEXT NOT NULL,
    title TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
    opened_at TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, closed_at TEXT,
    inputs TEXT NOT NULL, duties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_key ON incidents (dedup_key, status);
CREATE TABLE IF NOT EXISTS incident_alerts (
    alert_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents (id), document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    incident_id TEXT NOT NULL REFERENCES incidents (id), seq INTEGER NOT NULL, step_id TEXT NOT NULL,
    stage TEXT NOT NULL, action TEXT NOT NULL, description TEXT NOT NULL, params TEXT NOT NULL,
    plan TEXT NOT NULL, requires_approval INTEGER NOT NULL, timeout INTEGER NOT NULL,
    retries INTEGER NOT NULL, on_failure TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT, error TEXT, started_at TEXT, finished_at TEXT, approved_by TEXT, approved_at TEXT,
    PRIMARY KEY (incident_id, step_id)
);
CREATE TABLE IF NOT EXISTS timeline (
    incident_id TEXT NOT NULL REFERENCES incidents (id), at TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    incident_id TEXT NOT NULL REFERENCES incidents (id), name TEXT NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (incident_id, name)
);
"""

#: The journal's append-only, hash-chained audit log (see ``tocsin.respond.audit``).
AUDIT = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    subject TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
