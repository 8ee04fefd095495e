import os

from lib.helper import VALUE

KEYS = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "_HANDLER", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "GREETING"]


def handler(event, context):
    print("got", event)
    return {
        "event": event,
        "function_name": context.function_name,
        "invoked_arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000,
        "helper": VALUE,
        "env": {k: os.environ.get(k) for k in KEYS},
    }
