"""Seed 002: validates order data (orderId, customerId, a positive amount)."""


def lambda_handler(event, context):
    errors = []
    if not event.get("orderId"):
        errors.append("orderId is required")
    if not event.get("customerId"):
        errors.append("customerId is required")
    amount = event.get("amount")
    if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount <= 0:
        errors.append("amount must be a positive number")
    print("Validating order", event.get("orderId"), "errors:", errors)
    return {"valid": not errors, "errors": errors, "orderId": event.get("orderId")}
