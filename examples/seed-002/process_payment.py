"""Seed 002: processes a payment (simulated).

Fails with probability PAYMENT_FAILURE_RATE (default 0.1) by raising, so the workflow's Retry
and Catch take over; a test sets the rate to 0 or 1 through the function's environment.
"""

import os
import random
import uuid


class PaymentError(Exception):
    pass


def lambda_handler(event, context):
    rate = float(os.environ.get("PAYMENT_FAILURE_RATE", "0.1"))
    if random.random() < rate:
        raise PaymentError("Payment declined for order %s" % event.get("orderId"))
    transaction = "TXN-" + uuid.uuid4().hex[:12].upper()
    print("Charged", event.get("amount"), "for", event.get("orderId"), "as", transaction)
    return {"status": "charged", "transactionId": transaction, "amount": event.get("amount")}
