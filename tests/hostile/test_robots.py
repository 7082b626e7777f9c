"""A robots.txt is read to its first 500 KiB (RFC 9309), so a site cannot make every check of its
URLs cost time in proportion to a robots.txt of many megabytes."""

from __future__ import annotations

from scanner.crawl.robots import MAX_ROBOTSTXT_BYTES, CappedProtegoRobotParser, first_part


def _robots(rules: int) -> bytes:
    return b"User-agent: *\n" + b"".join(b"Disallow: /*a*b*c%d\n" % i for i in range(rules))


def test_rules_after_the_first_500_kib_are_not_read() -> None:
    body = _robots(MAX_ROBOTSTXT_BYTES // 18) + b"Disallow: /p2p\n"
    assert len(body) > MAX_ROBOTSTXT_BYTES
    parser = CappedProtegoRobotParser.from_crawler(None, body)  # type: ignore[arg-type]
    assert parser.allowed("https://x.test/p2p", "pkscan")  # the rule after 500 KiB, as Google reads it
    assert not parser.allowed("https://x.test/xaybzc7", "pkscan")  # the rules before it apply

    small = CappedProtegoRobotParser.from_crawler(None, _robots(10) + b"Disallow: /p2p\n")  # type: ignore[arg-type]
    assert not small.allowed("https://x.test/p2p", "pkscan")


def test_what_is_read_of_a_robots_txt_of_megabytes_is_bounded_and_ends_on_a_whole_line() -> None:
    big = _robots(600_000)  # ~11 MB: each URL of the site was checked against all 600,000 rules
    read = first_part(big)
    assert len(read) <= MAX_ROBOTSTXT_BYTES and read.endswith(b"\n") and big.startswith(read)
    small = _robots(10)
    assert first_part(small) is small
