"""The held-out parts' error classes of dev round hard2 (bench/realworld/README.md): merchants and
marketplaces that take crypto, multi-asset brokers funded through Pakistani rails, an exchange's
referral promo in Urdu and rupee deposits to a crypto platform named in Urdu. Written examples, not
copies of the dev documents."""

from __future__ import annotations

from .conftest import analyze_text, context_cues


def _flagged_without(url: str, text: str, category: str, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """The guard each class has: the service these cues must not reach is still flagged, no cue of
    ``category`` found on it."""
    result = analyze_text(url, text, lexicons, register)
    assert not any(cue.startswith(category + ":") for cue in context_cues(result))
    assert result.verdict == "flag"


MARKETPLACE_PAYMENTS = """# Getting paid in Pakistan
Stripe is not available in Pakistan, so the marketplace offers other ways to pay freelancers.
| Method | Fees | Speed |
| USDC (Polygon) | near-zero fees | 2 minutes |
| JazzCash | 1.5% | instant |
| EasyPaisa | 1.5% | instant |
| PayPal | 3% | 1 day |
## Receiving payments in USDC
1. Create an account on an exchange and buy USDC with PKR.
2. Withdraw it to your wallet on the Polygon network.
3. Your wallet address will be shown on the invoice; when a client pays, deposit PKR is not needed.
The payment gateway confirms the transfer in seconds.
"""


def test_a_marketplaces_payment_guide_is_no_crypto_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://market.example/docs/payments", MARKETPLACE_PAYMENTS, lexicons, register)
    # Pakistani rails and rupees: the page is for Pakistan ...
    assert result.targets_pakistan
    # ... but it takes payments; it does not sell crypto (DESIGN: a shop is not a crypto service).
    assert not result.crypto_service
    assert result.verdict == "clear"
    cues = context_cues(result)
    assert {"payments: payment company", "payments: invoice", "payments: payment gateway"} <= cues
    assert "payments: receiving payments" in cues


def test_an_exchanges_pkr_deposit_page_is_still_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # The payments cues are about being paid; an exchange's own deposit page names none of them.
    text = (
        "Deposit PKR with JazzCash or EasyPaisa. Deposits are credited to your fiat wallet and can be "
        "used to buy USDT on spot trading. Zero fees on your first deposit."
    )
    _flagged_without("https://exchange.example/deposit/pkr", text, "payments", lexicons, register)


MULTI_ASSET_APP = """# TradeNow - your all-in-one trading app
## Features
- Trade stocks, forex, cryptocurrencies, commodities and indices from one account.
- Real-time charts and market data for every asset.
- Deposit and withdraw funds with EasyPaisa, JazzCash or a bank transfer.
- Buy and sell crypto, gold and currency pairs with low spreads.
"""


def test_a_multi_asset_trading_app_funded_through_pakistani_wallets_is_a_broker(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://github.com/example/tradenow", MULTI_ASSET_APP, lexicons, register)
    assert result.targets_pakistan
    assert not result.crypto_service
    cues = context_cues(result)
    # Each asset class a broker lists beside crypto is its own cue.
    assert {"forex_broker: stocks", "forex_broker: commodities", "forex_broker: indices"} <= cues


def test_a_crypto_exchange_listing_coins_is_no_broker(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Buy and sell crypto with JazzCash and EasyPaisa. Spot trading for BTC, ETH and USDT with zero "
        "fees; deposit PKR and start trading."
    )
    _flagged_without("https://exchange.example/", text, "forex_broker", lexicons, register)


URDU_REFERRAL_PROMO = (
    "Examplex ریفرل پروگرام - 40% تک کمیشن\n"
    "اپنے دوستوں کو ہمارے پلیٹ فارم پر سائن اپ کرنے کی دعوت دیں۔ اپنا ریفرل لنک شیئر کریں اور ان کی ہر تجارت "
    "کی ٹریڈنگ فیس پر کمیشن حاصل کریں۔ دونوں کو 500 USDT تک کے انعامات ملیں گے۔"
)


def test_an_exchanges_referral_promo_in_urdu_is_an_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://promo.example/ur/examplex-referral", URDU_REFERRAL_PROMO, lexicons, register
    )
    services = {s.value for s in result.signals if s.kind == "crypto_service"}
    # "Referral programme" in the reader's language, as the English "referral bonus".
    assert "ریفرل پروگرام" in services
    assert result.verdict == "flag"


URDU_STABLECOIN_FAQ = (
    "عمومی سوالات\n"
    "Examplecoin کیا ہے؟\n"
    "Examplecoin پاکستانی روپے سے 1:1 محفوظ ڈیجیٹل ٹوکن ہے۔\n"
    "یہ کیسے کام کرتا ہے؟\n"
    "جب آپ PKR جمع کرتے ہیں تو اتنے ہی ٹوکن آپ کے والیٹ میں آ جاتے ہیں؛ واپسی پر آپ کو PKR مل جاتا ہے۔\n"
    "ہم ہر ڈپازٹ پر 0.5% فیس لیتے ہیں۔ منظوری کے بعد آپ ٹریڈنگ شروع کر سکتے ہیں۔"
)


def test_rupees_deposited_to_a_crypto_platform_in_urdu_are_an_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://coin.example/ur/faq", URDU_STABLECOIN_FAQ, lexicons, register)
    services = {s.value for s in result.signals if s.kind == "crypto_service"}
    assert "deposit pkr" in services
    assert result.verdict == "flag"


def test_rupees_deposited_at_a_bank_in_urdu_are_no_crypto_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # The bare Urdu "deposit rupees" is what bank and wallet pages say: not the crypto phrase.
    text = "اپنے اکاؤنٹ میں روپے جمع کرائیں اور بل ادا کریں۔ موبائل بینکنگ سے رقم جمع کرائیں۔"
    result = analyze_text("https://bank.example/ur", text, lexicons, register)
    assert not any(s.value == "deposit pkr" for s in result.signals)
    assert result.verdict == "clear"


URDU_DELIST_NOTICE = (
    "پیارے Examplex صارفین،\n"
    "Examplex فیوچرز ABCUSDT دائمی معاہدے کو ڈی لسٹ کر دے گا۔ نقصان سے بچنے کے لیے براہ کرم اپنی "
    "پوزیشنز وقت سے پہلے بند کر دیں۔"
)


def test_the_purpose_of_an_instruction_in_urdu_is_no_scam_warning(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # "to avoid losses, close your positions": an exchange's notice instructs, it does not warn of a scam.
    result = analyze_text("https://notices.example/ur/delist-abcusdt", URDU_DELIST_NOTICE, lexicons, register)
    assert not any(cue.startswith("warning:") for cue in context_cues(result))
    operations = {s.value for s in result.signals if s.kind == "exchange_operation"}
    assert "سے بچنے کے لیے" in operations
    # A scam warning still says so ("how to avoid the scammers").
    warning = analyze_text(
        "https://blog.example/ur/p2p",
        "P2P دھوکے بازوں سے کیسے بچیں؟ جعلی اسکرین شاٹ سے ہوشیار رہیں۔",
        lexicons,
        register,
    )
    assert "warning: سے بچیں" in context_cues(warning)


URDU_BOT_README = """# ExampleBot: Binance کے لیے خودکار ٹریڈنگ بوٹ
یہ بوٹ آپ کے اپنے Binance اکاؤنٹ پر BTC اور ETH کو USDT کے ذریعے خرید و فروخت کرتا ہے۔ اسپاٹ ٹریڈنگ،
لمٹ آرڈرز اور مارکیٹ آرڈرز، منافع اور نقصان کی حد۔
## انسٹال کریں
```
git clone https://github.com/example/examplebot
pip install -r requirements.txt
```
## ترتیب
اپنی API Keys (API key اور secret) `.env` فائل میں درج کریں۔ بوٹ آپ کی مقامی مشین پر چلتا ہے۔
## دستبرداری
کرپٹو ٹریڈنگ خطرناک ہے، اپنے خطرے پر استعمال کریں۔
"""


def test_a_trading_bots_readme_is_software_not_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://github.com/example/examplebot/blob/main/README.ur.md", URDU_BOT_README, lexicons, register
    )
    assert result.targets_pakistan  # Urdu
    # A tool the reader installs and runs on their own exchange account (DESIGN: not a platform that
    # trades with the reader): how it is installed, the API keys it is given, where it runs.
    cues = context_cues(result)
    assert {
        "software: pip install",
        "software: api key",
        "software: self-hosted",
        "software: at your own risk",
    } <= cues
    assert not result.crypto_service
    assert result.verdict == "clear"
