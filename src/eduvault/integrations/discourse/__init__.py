"""Discourse: a course's community kept in step (see docs/discourse.md)."""
