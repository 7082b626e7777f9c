"""Blocklist feeds for banks: entries from officer-approved findings, versioned publications,
signed artefacts (JSON, CSV, hosts, RPZ, STIX 2.1, rails summary), HTTP feeds and TAXII 2.1."""
