"""Baton's Lambda runtime for Python.

Loads the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on the Lambda Runtime
API at AWS_LAMBDA_RUNTIME_API: GET the next invocation, call the handler, POST its result (or
its error, shaped as AWS's Python runtime shapes it). Errors while loading the handler go to
/runtime/init/error. Embedded in the Baton binary; see crates/lambda/src/pool.rs.
"""

import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, _, PORT = API.partition(":")
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
HERE = os.path.abspath(__file__)
TASK_ROOT_PREFIX = os.path.join(os.path.abspath(TASK_ROOT), "")

_request_id = None


class _Connection:
    """A minimal HTTP/1.1 client on one kept-alive socket: the Runtime API is local and
    answers with Content-Length, and http.client's header parsing would dominate the cost of
    a warm invocation."""

    def __init__(self):
        self.sock = None
        self.reader = None

    def _connect(self):
        self.sock = socket.create_connection((HOST, int(PORT)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def close(self):
        for item in (self.reader, self.sock):
            try:
                if item is not None:
                    item.close()
            except OSError:
                pass
        self.sock = None
        self.reader = None

    def exchange(self, method, path, body, headers):
        if self.sock is None:
            self._connect()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, API, len(body))
        head += "".join("%s: %s\r\n" % item for item in headers.items())
        self.sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        status_line = self.reader.readline()
        if not status_line:
            raise ConnectionError("the Runtime API closed the connection")
        status = int(status_line.split()[1])
        fields = {}
        while True:
            line = self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            data = self.reader.read(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.reader.readline().split(b";")[0], 16)
                if size == 0:
                    self.reader.readline()
                    break
                parts.append(self.reader.read(size))
                self.reader.readline()
            data = b"".join(parts)
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, fields, data


_conn = _Connection()


def _request(method, path, body=b"", headers=None):
    """One exchange with the Runtime API, reconnecting once if the connection dropped.
    Returns (status, lower-cased headers, body)."""
    for attempt in (0, 1):
        try:
            return _conn.exchange(method, path, body or b"", headers or {})
        except (OSError, ValueError, IndexError):
            _conn.close()
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
        status, fields, body = _request("GET", "/2018-06-01/runtime/invocation/next")
        if status != 200:
            # The pool closed: Baton stops this process.
            time.sleep(0.05)
            continue
        request_id = fields.get("lambda-runtime-aws-request-id")
        _request_id = request_id
        deadline = int(fields.get("lambda-runtime-deadline-ms") or 0)
        function_arn = fields.get("lambda-runtime-invoked-function-arn")
        trace_id = fields.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        client_context = fields.get("lambda-runtime-client-context")
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
