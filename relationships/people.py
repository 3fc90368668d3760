"""How Accord shows a person, in every page, form, e-mail and message."""

FORMER_MEMBER = "a former member"


def person_name(user) -> str:
    """A person's full name, else their username; no one (an account since deleted, whose
    records stay) is "a former member"."""
    if not user:
        return FORMER_MEMBER
    return user.get_full_name() or user.username
