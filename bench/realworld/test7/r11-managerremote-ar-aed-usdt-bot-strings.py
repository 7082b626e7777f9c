BUY_USDT_AMOUNT_TEXT = (
    "<b>1 USDT = {} AED</b>\n\n"
    "كم تريد أن تبيع؟ 💵\n\n"
    "How much do you wanna sell?💵"
)
SEND_POSITIVE_TEXT = (
    "الرجاء إرسال عدد موجب لا يساوي الصفر\n\n" "Please send a non-zero positive number."
)

DO_YOU_AGREE_TEXT = "<b>{} USDT = {} AED</b>\n\n" "هل أنت موافق؟\n\n" "Do you agree?"

AGREE_TEXT = "موافق 👍 - " "Agree 👍"
DISAGREE_TEXT = "غير موافق 👍 - " "Disagree 👍"

CHOOSE_METHOD_TEXT = (
    "اختر وسيلة الدفع لاستلام أموالك 💳\n\n" "Choose a payment method💳"
)


SEND_PAYMENT_INFO_TEXT = "أرسل رقم حساب {}\n\n" "Send {} account number"


SEND_MONEY_TEXT = (
    "أرسل الآن العملات إلى المحفظة:\n\n"
    "<code>{}</code>\n\n"
    "ثم أرسل لقطة شاشة لعملية الدفع إلى البوت لنقوم بتوثيقها.\n\n"
    "<b>ملاحظة هامة: الشبكة المستخدمه هي TRC20</b>\n\n"
    "Send the currencies to the address:\n\n"
    "<code>{}</code>\n\n"
    "And then provide a screenshot for the process.\n\n"
    "<b>Pleas note that the network is TRC20</b>\n\n"
)
