export const P2P_OFFERS: P2POffer[] = [
  {
    id: 'p2p-1',
    merchantName: 'CryptoKing_Express (VIP)',
    ordersCount: 4280,
    completionRate: 99.8,
    verified: true,
    cryptoType: 'USDT',
    type: 'sell', // User buys from merchant
    price: 284.50,
    fiatCurrency: 'PKR',
    availableCrypto: 15420.00,
    minLimit: 5000,
    maxLimit: 1000000,
    paymentMethods: ['Bank Transfer', 'JazzCash', 'EasyPaisa', 'Raast'],
    responseTime: '1 min'
  },
  {
    id: 'p2p-2',
    merchantName: 'FastPay_Global',
    ordersCount: 1920,
    completionRate: 98.6,
    verified: true,
    cryptoType: 'USDT',
    type: 'sell',
    price: 284.85,
    fiatCurrency: 'PKR',
    availableCrypto: 8200.00,
    minLimit: 2000,
    maxLimit: 500000,
    paymentMethods: ['Nayapay', 'Sadapay', 'Meezan Bank'],
    responseTime: '2 mins'
  },
  {
    id: 'p2p-3',
    merchantName: 'AlphaTrader_USD',
    ordersCount: 3100,
    completionRate: 99.5,
    verified: true,
    cryptoType: 'USDT',
    type: 'sell',
    price: 1.002,
    fiatCurrency: 'USD',
    availableCrypto: 50000.00,
    minLimit: 100,
    maxLimit: 20000,
    paymentMethods: ['Wise', 'Bank Wire', 'Zelle', 'Revolut'],
    responseTime: '3 mins'
  },
  {
    id: 'p2p-4',
    merchantName: 'CashPro_Merchant',
    ordersCount: 890,
    completionRate: 99.1,
    verified: true,
    cryptoType: 'USDT',
    type: 'buy', // User sells to merchant
    price: 283.90,
    fiatCurrency: 'PKR',
    availableCrypto: 25000.00,
    minLimit: 10000,
    maxLimit: 1500000,
    paymentMethods: ['Bank Transfer', 'Raast', 'EasyPaisa'],
    responseTime: '1 min'
  },
  {
    id: 'p2p-5',
    merchantName: 'BinanceOTC_Direct',
    ordersCount: 8450,
    completionRate: 100.0,
    verified: true,
    cryptoType: 'BTC',
    type: 'sell',
    price: 25200000,
    fiatCurrency: 'PKR',
    availableCrypto: 4.85,
    minLimit: 50000,
    maxLimit: 5000000,
    paymentMethods: ['Bank Transfer', 'Meezan Bank', 'Faysal Bank'],
    responseTime: 'instant'
  }
];

export const FIAT_RATES: Record<string, number> = {
  USD: 1,
  USDT: 1,
  PKR: 284.50,
  EUR: 0.95,
  AED: 3.67,
  GBP: 0.81
};
