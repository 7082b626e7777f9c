"""Account roles. An admin can do everything an officer can, plus the admin pages."""

ROLES = ("officer", "admin")
ROLE_RANK = {"officer": 1, "admin": 2}
