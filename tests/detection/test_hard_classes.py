"""The held-out parts' error classes of dev rounds hard2 and hard3 (bench/realworld/README.md):
merchants and marketplaces that take crypto (also at their own USDT rate in rupees), multi-asset brokers
funded through Pakistani rails, an exchange's referral promo in Urdu, rupee deposits to a crypto platform
named in Urdu, software that reads a P2P market's rupee rates, and (dev round hard4) the Urdu strings of a trading bot
sold under licence. Written examples, not copies of the dev documents."""

from __future__ import annotations

from .conftest import analyze_json, analyze_text, context_cues


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


# Dev round hard3 (bench/realworld/README.md): a merchant quoting its own USDT rate in rupees, and
# software that reads a P2P market's rupee rates. Written examples, not copies of the dev documents.

SHOP_CHECKOUT_USDT = """Multan Blue Pottery — Checkout
Tea set (6 cups), hand-painted: Rs. 8,400
Qty 1 — Order total: Rs. 8,400
Choose a payment method: JazzCash, Easypaisa, Meezan Bank transfer or USDT (TRC-20).
USDT (TRC-20): send 30.11 USDT to our wallet. Rate: 1 USDT = Rs. 279. Paste the transaction hash below.
Proceed to Payment
"""


def test_a_shops_own_usdt_rate_is_no_pkr_market(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://pottery.example/checkout", SHOP_CHECKOUT_USDT, lexicons, register)
    assert result.targets_pakistan
    # The USDT quote is the rate the shop converts its own rupee price at, one way to pay for a tea
    # set: a merchant accepting crypto is not a crypto service (DESIGN).
    assert "shop: proceed to payment" in context_cues(result)
    assert not result.crypto_service
    assert result.verdict == "clear"


def test_a_usdt_desks_checkout_at_the_same_rate_is_still_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # A desk sells the USDT: what the buyer transfers and what they receive, no order of goods.
    text = (
        "Buy USDT — Payment Details\nRate: 1 USDT = 279 PKR\nAmount to Transfer: Rs. 10,000\n"
        "You Receive: 35.84 USDT\nSelect Payment Method: JazzCash or Easypaisa.\n"
        "TRC-20 Wallet Address: the USDT is sent here after we confirm your payment."
    )
    _flagged_without("https://desk.example/checkout", text, "shop", lexicons, register)


def test_binance_pay_is_how_a_merchant_is_paid(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Payment: send the order amount in USDT with Binance Pay to our Binance Pay ID 123456789, or "
        "transfer rupees to our Easypaisa account 0345 1234567. Delivery across Pakistan in 3 days."
    )
    result = analyze_text("https://shop.example/payment", text, lexicons, register)
    assert "payments: Binance Pay" in context_cues(result)
    assert result.verdict == "clear"


P2P_RATE_TICKER_README = """# RupeeRate
A small desktop widget that shows the best Binance P2P USDT/PKR buy and sell rates of merchants
(100,000 PKR+ and 1,000 PKR+ limits), refreshed from the Binance P2P API every 30 seconds.
## Setup
Put your Telegram bot token in the `.env` file (environment variable `BOT_TOKEN`) and the webhook URL
of your channel.
## Run
```
python rupeerate.py
```
Add any spot pair (BTCUSDT, ETHUSDT) in `pairs.json`.
"""


def test_software_that_reads_p2p_rupee_rates_is_no_desk(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://github.com/example/rupeerate/blob/main/README.md", P2P_RATE_TICKER_README, lexicons, register
    )
    assert result.targets_pakistan
    # How it is configured and run, and the exchange API it reads (DESIGN: software about a market is
    # not the market).
    assert {
        "software: run command",
        "software: script file",
        "software: environment variable",
        "software: webhook",
        "software: exchange api",
    } <= context_cues(result)
    assert not result.crypto_service
    assert result.verdict == "clear"


def test_a_p2p_desks_rupee_rates_are_still_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "USDT/PKR P2P desk — today's rates: buy 281.5, sell 283.2. Minimum 10,000 PKR. Pay with JazzCash "
        "or Easypaisa; USDT released to your TRC-20 wallet within 15 minutes. Message us on WhatsApp."
    )
    _flagged_without("https://desk.example/rates", text, "software", lexicons, register)


# Dev round hard4 (bench/realworld/README.md): the Urdu interface strings of a desktop futures bot sold
# under licence, run on the reader's own exchange account. Written example, not a copy of the dev
# document.

URDU_LICENSED_BOT_STRINGS = {
    "title": "مثال بوٹ — کرپٹو فیوچرز آٹو ٹریڈنگ",
    "connect": "کنیکٹ",
    "positions": "کھلی پوزیشنز",
    "leverage": "لیوریج:",
    "position_size": "پوزیشن سائز (USDT):",
    "stop_loss": "اسٹاپ لاس (%):",
    "orders": "آرڈرز",
    "auto_trade": "آٹو ٹریڈ",
    "license_code": "لائسنس کوڈ:",
    "license_status": "حالت: بغیر لائسنس",
    "guide_title": "استعمال گائیڈ - فیوچرز بوٹ",
    "guide": "یہ پروگرام Binance پر خودکار طور پر کرپٹو فیوچرز ٹریڈ کرتا ہے۔ پہلے TEST موڈ استعمال کریں۔",
}


def test_a_licensed_trading_bots_urdu_strings_are_software(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_json(
        "https://github.com/example/futuresbot/blob/main/locales/ur.json",
        URDU_LICENSED_BOT_STRINGS,
        lexicons,
        register,
    )
    assert result.targets_pakistan  # Urdu
    # The licence code the buyer types to unlock the program: software the reader runs on their own
    # exchange account, not a platform that trades with them (DESIGN).
    assert "software: licence key" in context_cues(result)
    assert not result.crypto_service
    assert result.verdict == "clear"


def test_an_exchanges_licence_in_urdu_is_no_licence_key(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "ہمارے ایکسچینج پر USDT خریدیں اور بیچیں: اسپاٹ ٹریڈنگ، فیوچرز اور P2P۔ JazzCash اور Easypaisa سے "
        "PKR جمع کریں۔ ہمارے پاس لائسنس ہے اور لائسنس کی تصدیق ریگولیٹر کی ویب سائٹ پر کی جا سکتی ہے۔"
    )
    _flagged_without("https://exchange.example/ur", text, "software", lexicons, register)
