"""Storefront payments: the ledger, wallets, Paystack payments, escrow and vendor payouts."""
