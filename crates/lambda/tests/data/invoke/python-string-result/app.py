def handler(event, context):
    return {"string": "HelloWorld!", "float": 0.0, "none": None, "dict": {"foo": "foo-1"}, "set": {1, 2}}[event["kind"]]
