"""A course's community on a forum platform, kept in step with the course (see docs/discourse.md)."""
