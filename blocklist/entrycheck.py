"""The last gate before a bank sees a name: is a blocklist entry's value a valid name of its type?

Names are checked where they enter (`scanner.names`), and again here, so that nothing stored
before that check, or written by another path, reaches a DNS firewall, a spreadsheet or a
threat-intel platform. A `domain` must be a DNS name in ASCII form and not a hosting site (blocking
``t.me`` would block everyone on it); a `url` must be the https URL of a valid platform key; an
`app_id` a valid Google Play or App Store id.
"""

from __future__ import annotations

from scanner.names import HOSTING_SITES, InvalidName, android_package, apple_app_id, dns_name, platform_key


def entry_problem(type_: str, value: str) -> str | None:
    """Why an entry of this type and value must not be published, or None if it may."""
    try:
        if type_ == "domain":
            if dns_name(value) != value:
                return f"{value!r}: not in the ASCII lower-case form a domain entry must have"
            if value in HOSTING_SITES:
                return f"{value!r}: a hosting site serves everyone; only its channels and apps are listed"
        elif type_ == "url":
            if not value.startswith("https://"):
                return f"{value!r}: a url entry is the https URL of a platform"
            platform_key(value.removeprefix("https://"))
        elif type_ == "app_id":
            if value.startswith("id") and value[2:].isdigit():
                apple_app_id(value)
            else:
                android_package(value)
        else:
            return f"unknown entry type {type_!r}"
    except InvalidName as exc:
        return str(exc)
    return None
