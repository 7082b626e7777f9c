"""The review queue and the finding page say how discovery found a platform (source, where, why)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from scanner.store.models import Candidate
from scanner.web import create_app
from tests.web.reviewkit import login, make_config, seed


def test_queue_and_finding_page_show_the_source_and_the_response_that_named_it(tmp_path):
    seeded = seed(make_config(tmp_path))
    with Session(seeded.engine) as session:
        session.add(Candidate(
            key="fastcoin.test", url="http://fastcoin.test/", source="crtsh", sources=["crtsh", "telegram"],
            found_on_url="http://crt.sh.test/?q=%25coin%25&output=json", capture_id=seeded.captures["fastcoin"],
            reason="certificate for www.fastcoin.test <script>x</script>", crawled=True,
        ))  # fmt: skip
        session.commit()
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    queue = client.get("/review/").text
    assert "found by crtsh" in queue
    page = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    assert 'id="discovered"' in page and "by crtsh (also telegram)" in page
    assert f'<a href="/review/captures/{seeded.captures["fastcoin"]}?finding=' in page
    assert "http://crt.sh.test/?q=%25coin%25&amp;output=json" in page
    assert (
        "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    )  # captured text escaped
    # a platform no discovery found (configured) shows nothing of the kind
    assert 'id="discovered"' not in client.get(f"/review/findings/{seeded.findings['slowex']}").text
