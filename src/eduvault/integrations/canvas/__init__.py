"""Canvas LMS: structure, Live Events and learner records, both ways."""
