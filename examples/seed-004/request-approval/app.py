"""Asks the store owner for approval (seed 000's "Shipment Approval Request"): builds the
approve and reject links from the function URL and the task token. A real deployment would
publish them to SNS; the workflow's history keeps them (TaskSubmitted), which the test reads."""

import os
import urllib.parse


def handler(event, context):
    base = os.environ["APPROVAL_URL"]
    token = urllib.parse.quote(event["taskToken"], safe="")
    return {
        "orderId": event["orderId"],
        "approve": "%s?taskToken=%s&result=approve" % (base, token),
        "reject": "%s?taskToken=%s&result=reject" % (base, token),
    }
