"""Learners: accounts bound to an email address the learner proved they read (a one-time
sign-in link sent by email), their browser sessions, and their OB 3.0 profile."""
