"""Async jobs: a durable queue in the SQL store (SQLite or PostgreSQL), workers that run each job
through the gateway's own pipeline under the submitter's principal, and the routes to submit,
poll and cancel (docs/jobs.md)."""
