"""Baton's Lambda runtime for Python.

Loads the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on the Lambda Runtime
API at AWS_LAMBDA_RUNTIME_API: GET the next invocation, call the handler, POST its result (or
its error, shaped as AWS's Python runtime shapes it). Errors while loading the handler go to
/runtime/init/error. Embedded in the Baton binary; see crates/lambda/src/pool.rs.
"""

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, _, PORT = API.partition(":")
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
HERE = os.path.abspath(__file__)
TASK_ROOT_PREFIX = os.path.join(os.path.abspath(TASK_ROOT), "")

_conn = None
_request_id = None


def _request(method, path, body=None, headers=None):
    """One HTTP exchange on a kept-alive connection, reconnecting once if it dropped."""
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(HOST, int(PORT))
        try:
            _conn.request(method, path, body=body, headers=headers or {})
            response = _conn.getresponse()
            return response, response.read()
        except (http.client.HTTPException, OSError):
            _conn.close()
            _conn = None
            if attempt:
                raise


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _user_frames(tb):
    """The traceback without this bootstrap's own frames, as AWS's runtime reports it."""
    frames = traceback.extract_tb(tb)
    return [frame for frame in frames if os.path.abspath(frame.filename) != HERE]


def _as_on_aws(line):
    """A stack trace line with the task root spelled /var/task, as AWS reports it, so error
    causes match AWS's byte for byte (the function's log keeps the real path)."""
    return line.replace(TASK_ROOT_PREFIX, "/var/task/")


def _error_document(exc, request_id, error_type=None, message=None, frames=None):
    if frames is None:
        frames = _user_frames(exc.__traceback__) if exc is not None else []
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id or "",
        "stackTrace": [_as_on_aws(line) for line in traceback.format_list(frames)],
    }


def _post_init_error(document):
    _flush()
    body = json.dumps(document).encode()
    _request("POST", "/2018-06-01/runtime/init/error", body,
             {"Lambda-Runtime-Function-Error-Type": document["errorType"],
              "Content-Type": "application/json"})
    sys.exit(1)


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        return True


def _setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    logging.Formatter.converter = time.gmtime
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING").upper())


def _load_handler(spec):
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        _post_init_error(_error_document(
            None, None, "Runtime.MalformedHandlerName",
            "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        _post_init_error(_error_document(
            exc, None, "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, exc), frames=[]))
    except SyntaxError as exc:
        _post_init_error(_error_document(
            exc, None, "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, exc)))
    except Exception as exc:
        _post_init_error(_error_document(exc, None))
    handler = getattr(module, function_name, None)
    if handler is None:
        _post_init_error(_error_document(
            None, None, "Runtime.HandlerNotFound",
            "Handler '%s' missing on module '%s'" % (function_name, module_name)))
    return handler


class CognitoIdentity:
    def __init__(self):
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class ClientContext:
    def __init__(self, document):
        self.client = document.get("client")
        self.custom = document.get("custom")
        self.env = document.get("env")


class LambdaContext:
    """The `context` argument, with the attributes and method AWS's runtime provides."""

    def __init__(self, request_id, deadline_ms, function_arn, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity()
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s])" % (
            self.aws_request_id, self.function_name)


def main():
    global _request_id
    sys.path.insert(0, TASK_ROOT)
    _setup_logging()
    handler = _load_handler(os.environ.get("_HANDLER", ""))
    while True:
        response, body = _request("GET", "/2018-06-01/runtime/invocation/next")
        if response.status != 200:
            # The pool closed: Baton stops this process.
            time.sleep(0.05)
            continue
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        _request_id = request_id
        deadline = int(response.getheader("Lambda-Runtime-Deadline-Ms") or 0)
        function_arn = response.getheader("Lambda-Runtime-Invoked-Function-Arn")
        trace_id = response.getheader("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        client_context = response.getheader("Lambda-Runtime-Client-Context")
        base = "/2018-06-01/runtime/invocation/%s" % request_id
        try:
            try:
                event = json.loads(body) if body else {}
            except ValueError as exc:
                raise _Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % exc)
            context = LambdaContext(request_id, deadline, function_arn,
                                    json.loads(client_context) if client_context else None)
            result = handler(event, context)
            try:
                out = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % exc)
        except _Fault as fault:
            document = _error_document(None, request_id, fault.error_type, fault.message)
        except Exception as exc:
            document = _error_document(exc, request_id)
        else:
            _flush()
            _request("POST", base + "/response", out, {"Content-Type": "application/json"})
            continue
        _flush()
        print("[ERROR] %s: %s" % (document["errorType"], document["errorMessage"]), file=sys.stdout)
        for line in document["stackTrace"]:
            sys.stdout.write(line)
        _flush()
        _request("POST", base + "/error", json.dumps(document).encode(),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled",
                  "Content-Type": "application/json"})


class _Fault(Exception):
    def __init__(self, error_type, message):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message


if __name__ == "__main__":
    main()
