"""Learner records: grades, exam results, certificates, completions, badges, submissions,
profiles, forum posts, enrollments and masteries, from every platform, merged field by field
under version vectors and source-of-truth policies, audited, published in the feed, and
written back to the platforms that should hold them."""
