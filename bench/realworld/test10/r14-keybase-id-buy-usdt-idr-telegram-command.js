/*CMD
  command: /buy_usdt_in
  help: 
  need_reply: 
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: 
  aliases: 
CMD*/

var json = JSON.parse(data.content)
var date = new Date().toLocaleString("en-US", {timeZone: "Asia/jakarta"});

let time = Libs.DateTimeFormat.format(date, "dd/mm/yyyy HH:MM:ss" ) 
var usdt = json.ticker.sell

var amount = User.getProperty("idr_usdt")

var jumlah = amount/usdt
var rupiah = amount.toLocaleString('EN-en')
var wallet = User.getProperty("wallet_usdt")

var fee = amount+10000
var min = fee/usdt
var biaya = fee.toLocaleString('EN-en')

Bot.sendMessage("*LAYANAN BELI USDT*\n\n=> Beli: "+min+" USDT => Rp "+biaya+"\n=> Terima: "+jumlah.toFixed(2)+" USDT => Rp "+rupiah+"\n=> Fee admin: Rp 10,000\n=> Walet: *"+wallet+"*\n\nSilahkan tunggu, transaksi anda di proses secara manual, kami akan mengirimkan bukti transaksi di pesan selanjutnya")


Bot.sendMessage({chat_id:524550302,text:"=> User ID : `"+user.telegramid+"`\n=> Beli USDT: "+jumlah.toFixed(2)+"\n=> address: `"+wallet+"`\n\nKirim notifikasi : `/kirimcoin "+user.telegramid+"`"})

Api.sendMessage({chat_id:"@jackchanger", text:"=> Transaksi ID: *JT-"+user.telegramid+"*\n=> Method: *BELI USDT*\n=> Nominal: *"+min+" USDT*\n=> Date: *"+time+" WIB*", parse_mode:"Markdown"})
