"""Scrapy spiders: thin, they fetch, follow and yield. Evidence, detection and storage are pipelines."""
