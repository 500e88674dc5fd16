"""Learner records, pure: version vectors, merging under source-of-truth policies, grade scales."""
