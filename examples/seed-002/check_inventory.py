"""Seed 002: checks inventory availability (simulated).

Available with probability INVENTORY_AVAILABLE_RATE (default 0.8), so a test can make the
outcome certain through the function's environment (1 or 0) without editing the workflow.
"""

import os
import random


def lambda_handler(event, context):
    rate = float(os.environ.get("INVENTORY_AVAILABLE_RATE", "0.8"))
    available = random.random() < rate
    print("Inventory for", event.get("orderId"), "available:", available)
    return {"inventoryAvailable": available, "warehouse": "WH-1" if available else None}
