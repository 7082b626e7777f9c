"""Outbound HTTP: the egress policy (`egress`), the one requests-based client (`http`) and the
``Retry-After`` reading (`retry_after`) shared by Scrapy and the pollers."""
