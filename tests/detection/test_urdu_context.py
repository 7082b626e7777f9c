"""Urdu education and warning context versus an exchange operating its service (issue 12): the
frozen part's misses were Urdu explainers and scam warnings flagged, and an exchange's own Urdu
product page and pages promoting an exchange to Pakistanis cleared."""

from __future__ import annotations

from .conftest import analyze_text, context_cues

PRODUCT_PAGE = (
    "دوہری سرمایہ کاری\n"
    "سستا خریدیں یا مہنگا بیچیں - ٹریڈنگ کی کوئی فیس نہیں\n"
    "ہولڈنگ دیکھنے کے لیے لاگ ان کریں\n"
    "مرحلہ 1: کوائن منتخب کریں۔ کوائن APR موجودہ قیمت\n"
    "مرحلہ 2: ہدف قیمت اور تصفیے کی تاریخ منتخب کریں، پھر ابھی سبسکرائب کریں\n"
    "اکثر پوچھے گئے سوالات\n"
    "دوہری سرمایہ کاری کیا ہے؟\n"
    "یہ ایک پروڈکٹ ہے جس سے آپ مستقبل میں اپنی مطلوبہ قیمت پر کرپٹو خرید یا بیچ سکتے ہیں۔"
)


def test_an_exchanges_own_urdu_earn_product_page_is_flagged(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://www.examplex.com/ur/dual-investment", PRODUCT_PAGE, lexicons, register)
    assert result.verdict == "flag"
    reasons = "\n".join(result.explanation["crypto_service"])
    # What the page lets its reader do (settle at a target price, subscribe) decides, with fitted
    # weights; the product's name is a topic; its one FAQ "what is" does not make it an explainer,
    # and the name ("dual investment") is no "investment" cue.
    assert "for: exchange_operation 'سیٹلمنٹ' (weight" in reasons
    assert "for: crypto_service 'سبسکرائب کریں' (weight" in reasons
    assert "for: crypto_product 'دوہری سرمایہ کاری' (weight" in reasons
    assert context_cues(result) <= {"education: کیا ہے", "rates: قیمت"}


SCAM_WARNING = (
    "پی ٹو پی ٹریڈنگ کے فراڈ: دھوکے بازوں سے کیسے بچیں\n"
    "بہت سے لوگ P2P پر USDT خریدتے ہیں اور ادائیگی ایزی پیسہ یا جاز کیش سے کرتے ہیں۔\n"
    "عام طریقے: جعلی اسکرین شاٹ بھیج کر کہتے ہیں کہ رقم بھیج دی ہے، یا کسی اور کے اکاؤنٹ سے رقم آتی ہے۔\n"
    "اپنی حفاظت کے لیے رقم خود چیک کریں اور کبھی اپنا او ٹی پی کسی کو نہ دیں۔"
)


def test_an_urdu_p2p_scam_warning_is_context_not_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://urdu-blog.example/p2p-fraud", SCAM_WARNING, lexicons, register)
    assert result.targets_pakistan
    assert not result.crypto_service
    assert result.verdict == "clear"
    # The scam, the scammers, the fakes and the advice are four cues, each listed against.
    assert {"warning: سکیم", "warning: دھوکہ باز", "warning: جعلی", "warning: سے بچیں"} <= context_cues(result)
    against = [r for r in result.explanation["crypto_service"] if r.startswith("against: ")]
    assert len(against) >= 4


EXPLAINER = (
    "کرپٹو ٹریڈنگ اور سرمایہ کاری میں کیا فرق ہے؟\n"
    "ٹریڈنگ میں آپ مختصر مدت کے لیے بٹ کوائن خریدتے اور بیچتے ہیں، سرمایہ کاری میں طویل مدت کے لیے رکھتے ہیں۔\n"
    "فیوچرز کیسے کام کرتے ہیں؟ لیوریج سے نقصان بھی بڑھ جاتا ہے۔\n"
    "فوائد اور نقصانات، اور نتیجہ: یہ مالی مشورہ نہیں ہے۔"
)


def test_an_urdu_explainer_of_trading_and_investing_is_cleared(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://urdu-blog.example/trading-vs-investing", EXPLAINER, lexicons, register)
    assert not result.crypto_service
    assert {
        "education: میں فرق",
        "education: کیسے کام کرتا ہے",
        "education: فوائد اور نقصانات",
    } <= context_cues(result)


def test_what_is_counts_as_a_question_not_as_the_perfect_tense(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    question = analyze_text("https://x.example/", "بٹ کوائن کیا ہے؟ ایک ڈیجیٹل کرنسی۔", lexicons, register)
    assert "education: کیا ہے" in context_cues(question)
    # "You have clicked" (آپ نے کلک کیا ہے۔): a help page's instruction, no explainer cue.
    perfect = analyze_text(
        "https://x.example/", "جب آپ نے بٹن پر کلک کیا ہے۔ پھر کوڈ درج کریں۔", lexicons, register
    )
    assert "education: کیا ہے" not in context_cues(perfect)
    assert {"بٹن", "منتخب کریں"} <= {s.value for s in perfect.signals if s.kind == "exchange_operation"}


def test_an_exchange_brand_named_for_pakistan_is_a_service_signal(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    branded = analyze_text(
        "https://guide.example/ur/faq",
        "WhiteBIT Pakistan - WhiteBIT پاکستان: اپنے WhiteBIT اکاؤنٹ میں لاگ ان کریں",
        lexicons,
        register,
    )
    values = {(s.kind, s.value) for s in branded.signals}
    assert ("crypto_service", "exchange brand named for Pakistan") in values
    assert ("exchange_operation", "operating one exchange (its account, app or wallet)") in values
    news = analyze_text(
        "https://news.example/a", "Binance's operations in Pakistan grew, analysts said.", lexicons, register
    )
    assert "exchange brand named for Pakistan" not in {s.value for s in news.signals}
