export default {
    swap:{
        subMenu1:"Swap",
        subMenu2:"Liquidity Pool",
        subMenu3:"History",
        Exchanges:'Exchanges',
        pageTitle: "Swap",
        Pair:'Pair',
        Price:'Price',
        Change:'Change',
        ChangeTip:'Price comparison in recent 24 hours',
        fromToken: "From",
        toToken: "To（estimated）",
        balance: "Balance",
        swapBtn: "Swap Now",
        price: "Price",
        PriceImpact: "Price Impact",
        LiquidityProviderFee: "Liquidity Provider Fee",
        Minimumreceived: "Minimum Received",
        
        PriceImpactError: "The price fluctuates too much to trade",
        approve: "Approve",
        ethgasfree: "Fee",
        enterthequantity: "Please enter the quantity",
        
        actions: {
          
          Amountexceedsbalance: "The swap amount cannot be greater than balance,And greater than 0",
          needNumber:"The value entered needs to be a number",
          Transactionfailure: "Transaction Failed",
          approvesuccessful: "Approve succeeded",
          approvecancel:'Cancel approve',
          Transactionsent: "Transaction Sent",
          Successfultrade:'Transaction succeeded'
        },
    },
    swapConfirm:{
      Confirm:'Confirm',
      fromToken: "From",
      toToken: "To（estimated）",
      Asset:'Asset',
      Destination:'Destination',
      NetworkFee:'Network Fee',
      Youwillreceive:'You will receive',
      ConfirmBtn:'Confirm',
      Transactioncancelled:'Transaction cancelled',
      success:'success',
      fail:'fail',
      successCom:'Success',
      failCom:'Fail',
      txhavesend:'The transaction has been sent'
    }
};
