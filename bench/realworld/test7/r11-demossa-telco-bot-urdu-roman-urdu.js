exports.statements = {
    notLoggedIn : {
        english: {title: 'Your session has been expired. Please authenticate yourself by click on login button', replies:['Login']},
        urdu: {title: ' آپ کا سیشن ختم ہو چکا ہے. برائے مہربانی لاگ ان بٹن پر کلک کرکے اپنے آپ کو تصدیق کریں', replies:['لاگ ان']},
        romanurdu: {title: 'Apka session khatam ho chukta hay. Baray-e-Meherbani apni Tasdeeq Kerwaien, abhi login per click karain', replies:['Sign in']}
    },
    fallback : {
        english: {title: 'Other Actions', replies:['Current Package', 'Packages List', 'Unsubscribe Package', 'Register Complaint', 'Complaint Status', ]},
        urdu: {title: 'دیگر اعمال', replies:['موجودا پیکج ', 'پیکیجز', 'پیکج ختم کریں', 'شکایت درج کریں ', 'شکایت کا سٹیٹس']},
        romanurdu: {title: 'Deegar aamaal', replies:['Mojoda Package', 'Package ki malomat', 'Package Khatam karain', 'Shikayat Darj Karain', 'Shikyat Ka Status']}
    },
    wrongotp: {
        english: 'Wrong OTP, Please start again.',
        urdu: 'او ٹی پی درست نہیں ہے دوبارہ کوشش کیجیے',
        romanurdu: 'OTP durust nahi. Dubara koshish keejiye'
    },
    signup: {
        exists: {
            english: 'You are already in our database as a registered customer. You can ask us any question here or update your services or information.',
            urdu: 'آپ کا اکاؤنٹ ہمارے ڈیٹا بیس میں رجسٹرڈ یوزر کے طور پر موجود ہے . آپ ہم سے کوئی بھی سوال پوچھ سکتے ہیں اور کوئی بھی سروس یا معلومات کی جانکاری حاصل یا اس میں تبدیلی کر سکتے ہیں',
            romanurdu: 'Aap ka account humaray database mei registered user k tor per mojood hei. App hum se koi bhi sawaal pooch saktey hein aur koi bhi service ya maloomat ki jaankari hasil ya uss mei tabdeeli kar saktey hein'
        },
        success: {
            english: 'Thank you for signing up with us. You can ask us any question here or update your services or information. We have created 5 hour session of your conversation with this bot. After 5 hour you will have to again authenticate yourself by phone number',
            romanurdu: 'Account banaaney ka shukriya. App hum se koi bhi sawaal pooch saktey hein aur koi bhi service ya maloomat ki jaankari hasil ya uss mei tabdeeli kar saktey hein. Hum ny iss bot ky sath aap ki bat cheet ka 5 ghanty ka session tayyar kiya hy. us ky baad aap ko dobara phone number sy sign in kerna hoga'
        }
    },
    findCustomer: {
        romanurdu: 'Hamary system main is phone number ka koi user moojood nahi, ap abhi "Hi" likh ker sign up kerskty hain',
        urdu: "ہمارے سسٹم میں اس فون نمبر کے ساتھ کوئی صارف نہیں ملا، آپ اب 'ہیلو' ٹائپ کرکے سائن اپ کرسکتے ہیں",
        english: "No user found with this phone number in our system, You can signup now by typing 'Hi' Here"
    },
    updatePackage: {
        english: 'We can not activate this package into your number',
        urdu: 'ہم یہ پیکج آپ کے نمبر میں چالو نہیں کر سکتے ہیں',
        romanurdu: 'Hum apky number per filhal package activate nahi kerskty'
    }
}
