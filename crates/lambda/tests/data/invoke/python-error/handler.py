def handler(event, context):
    if event.get("key_error"):
        return {}["missing"]
    if event["fail"]:
        raise Exception("Some exception was raised.")
    return event
