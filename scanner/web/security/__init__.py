"""Security pieces of the review workspace, one concern per module (passwords, sessions, CSRF, rate limit)."""
